//go:build race

package backup

// raceEnabled: the race detector multiplies memory and time, so the
// 1 GiB test runs without it (make test runs it so).
const raceEnabled = true
