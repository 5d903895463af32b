package modules

import (
	"fmt"
	"strconv"
	"time"
)

// Seconds reads a duration given in seconds, as Salt's functions take it:
// an int, a float or a numeric string.
func Seconds(v any) (time.Duration, error) {
	switch v := v.(type) {
	case int64:
		return time.Duration(v) * time.Second, nil
	case uint64:
		return time.Duration(v) * time.Second, nil
	case float64:
		return time.Duration(v * float64(time.Second)), nil
	case string:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of seconds", v)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("%v is not a number of seconds", v)
}
