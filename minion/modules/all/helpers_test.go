package all

import (
	"fmt"
	"slices"
)

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func fmtAny(v any) string { return fmt.Sprint(v) }
