//go:build race

package dvcqg_test

// raceDetector: the race detector adds allocations of its own and drops pooled items at random.
const raceDetector = true
