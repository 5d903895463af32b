//go:build race

package pyfmt

const raceEnabled = true
