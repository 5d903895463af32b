//go:build race

package bench

// raceEnabled: the race detector allows 8,128 goroutines at most, fewer
// than the heavy fixtures start.
const raceEnabled = true
