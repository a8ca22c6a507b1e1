//go:build race

package transport_test

// raceEnabled shrinks the hostile sizes (hostileScale): the race detector
// slows allocation-heavy code many times over, and the full sizes run in
// every test without it.
const raceEnabled = true
