//go:build race

package chunker

// raceEnabled: the race detector slows restic's chunker, the reference
// of TestSameBoundariesAsRestic, about twentyfold; that test then cuts
// shorter streams.
const raceEnabled = true
