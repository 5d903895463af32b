package pkg

// change is a changes entry.
func change(old, new string) map[string]any { return map[string]any{"old": old, "new": new} }
