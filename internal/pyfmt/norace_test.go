//go:build !race

package pyfmt

const raceEnabled = false
