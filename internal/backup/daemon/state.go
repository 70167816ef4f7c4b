package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Run results.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
	// ResultInterrupted is a run stopped by the daemon's shutdown (or
	// the caller's context): it fires no alarm.
	ResultInterrupted = "interrupted"
)

// Kinds of job.
const (
	KindBackup      = "backup"
	KindRestoreTest = "restore-test"
)

// Record is what one run did.
type Record struct {
	Job    string `json:"job"`
	Kind   string `json:"kind"`
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
	// Start is when the run began (the daemon's clock); Duration is
	// how long the backup (or the restore test) took, retention not
	// included.
	Start           time.Time `json:"start"`
	DurationSeconds float64   `json:"duration_seconds"`
	Repository      string    `json:"repository,omitempty"`
	Snapshot        string    `json:"snapshot,omitempty"`
	Type            string    `json:"type,omitempty"`
	Files           int64     `json:"files"`
	BytesTotal      int64     `json:"bytes_total"`
	BytesRead       int64     `json:"bytes_read"`
	BytesNew        int64     `json:"bytes_new"`
	BytesStored     int64     `json:"bytes_stored"`
	// DedupRatio is the share of the bytes read that the repository
	// already held (0 to 1; 0 when nothing was read).
	DedupRatio  float64            `json:"dedup_ratio"`
	Retention   *RetentionResult   `json:"retention,omitempty"`
	RestoreTest *RestoreTestResult `json:"restore_test,omitempty"`
}

// Duration returns the run's duration.
func (r *Record) Duration() time.Duration {
	return time.Duration(r.DurationSeconds * float64(time.Second))
}

// RetentionResult says what retention did after a run.
type RetentionResult struct {
	Kept        int    `json:"kept"`
	Removed     int    `json:"removed"`
	PacksPruned int    `json:"packs_pruned"`
	BytesFreed  int64  `json:"bytes_freed"`
	Error       string `json:"error,omitempty"`
}

// RestoreTestResult says what a restore test checked.
type RestoreTestResult struct {
	Job      string `json:"job"` // the job tested
	Snapshot string `json:"snapshot,omitempty"`
	// FilesInSnapshot are the snapshot's regular files, of which
	// FilesSampled were restored and checked (BytesChecked bytes).
	FilesInSnapshot int   `json:"files_in_snapshot"`
	FilesSampled    int   `json:"files_sampled"`
	BytesChecked    int64 `json:"bytes_checked"`
	// Packs were read; PacksRestored of them had to be restored from an
	// archive class first.
	Packs         int      `json:"packs"`
	PacksRestored int      `json:"packs_restored"`
	Mismatches    []string `json:"mismatches,omitempty"`
}

// historyLen is how many records the state keeps per job.
const historyLen = 20

// State is the state file: per job, its records and alarms.
type State struct {
	Version int                  `json:"version"`
	Jobs    map[string]*JobState `json:"jobs"`
}

// JobState is what the daemon remembers about a job.
type JobState struct {
	// Since is when the daemon first saw the job: rate schedules and the
	// no-success-within alarm count from it.
	Since       time.Time `json:"since"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	Runs        int64     `json:"runs"`
	Failures    int64     `json:"failures"`
	Skipped     int64     `json:"skipped"`
	// Alarms lists the alarms firing.
	Alarms map[string]bool `json:"alarms,omitempty"`
	// History holds the last runs, oldest first.
	History []Record `json:"history,omitempty"`
}

// Last returns the job's last record, or nil.
func (s *JobState) Last() *Record {
	if len(s.History) == 0 {
		return nil
	}
	return &s.History[len(s.History)-1]
}

const stateVersion = 1

// LoadState reads the state file at path; a missing file is an empty
// state.
func LoadState(path string) (*State, error) {
	st := &State{Version: stateVersion, Jobs: map[string]*JobState{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state file: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("state file %s: version %d, this firn reads %d", path, st.Version, stateVersion)
	}
	if st.Jobs == nil {
		st.Jobs = map[string]*JobState{}
	}
	return st, nil
}

// save writes st to path atomically (a temporary file renamed over it).
func (st *State) save(path string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".state-*")
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}
