//go:build !race

package transport_test

// raceEnabled shrinks the hostile sizes (hostileScale) under the race
// detector.
const raceEnabled = false
