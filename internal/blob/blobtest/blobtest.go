// Package blobtest is the conformance suite for blob.Store
// implementations: an implementation's test calls Run with a function that
// opens a fresh, empty store, and the contracts documented in package blob
// are checked against it, each subtest on its own store:
//
//	func TestConformance(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) blob.Store {
//			s, err := Open(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// The suite covers what every store must do: the write, commit and read
// round trip, ranges, visibility only after Commit, Abort, ids that are
// not blobs, Delete, Walk and Sweep. Checks of an implementation's own
// layout (what Sweep leaves on disk, the reader types) belong in its own
// tests. The suite is meant to run under the race detector.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/blob"
)

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

var tests = []struct {
	name string
	fn   func(t *testing.T, s blob.Store)
}{
	{"RoundTrip", testRoundTrip},
	{"Ranges", testRanges},
	{"NotCommitted", testNotCommitted},
	{"Abort", testAbort},
	{"InvalidIDs", testInvalidIDs},
	{"Delete", testDelete},
	{"Walk", testWalk},
	{"Sweep", testSweep},
	{"Large", testLarge},
	{"Concurrent", testConcurrent},
}

// write stores data as a new committed blob and returns its id.
func write(t *testing.T, s blob.Store, data []byte) string {
	t.Helper()
	w, err := s.Create(t.Context())
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		t.Fatalf("Write: %v", err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return w.ID()
}

// read returns length bytes of blob id from offset.
func read(ctx context.Context, s blob.Store, id string, offset, length int64) ([]byte, error) {
	r, err := s.Open(ctx, id, offset, length)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(r)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	return b, err
}

// walk returns the ids Walk reports, sorted.
func walk(t *testing.T, s blob.Store) []string {
	t.Helper()
	var ids []string
	err := s.Walk(t.Context(), func(id string, committed time.Time) error {
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	slices.Sort(ids)
	return ids
}

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func testRoundTrip(t *testing.T, s blob.Store) {
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"one byte", []byte{0}},
		{"text", []byte("hello, world\n")},
		{"binary", randBytes(4097, 1)},
	}
	ids := map[string]bool{}
	for _, tc := range tests {
		w, err := s.Create(t.Context())
		if err != nil {
			t.Fatalf("%s: Create: %v", tc.name, err)
		}
		id := w.ID()
		if id == "" || ids[id] {
			t.Errorf("%s: Create: got id %q, want a new non-empty one", tc.name, id)
		}
		ids[id] = true
		// Write in pieces of varying size.
		for rest := tc.data; len(rest) > 0; {
			n := min(len(rest), 1+len(rest)/3)
			m, err := w.Write(rest[:n])
			if err != nil || m != n {
				t.Fatalf("%s: Write(%d bytes): got (%d, %v), want (%d, nil)", tc.name, n, m, err, n)
			}
			rest = rest[n:]
		}
		if w.ID() != id {
			t.Errorf("%s: ID changed while writing: got %q, want %q", tc.name, w.ID(), id)
		}
		if err := w.Commit(t.Context()); err != nil {
			t.Fatalf("%s: Commit: %v", tc.name, err)
		}
		if w.ID() != id {
			t.Errorf("%s: ID changed by Commit: got %q, want %q", tc.name, w.ID(), id)
		}
		got, err := read(t.Context(), s, id, 0, -1)
		if err != nil {
			t.Errorf("%s: Open: %v", tc.name, err)
			continue
		}
		if !bytes.Equal(got, tc.data) {
			t.Errorf("%s: got %d bytes %.20q, want %d bytes %.20q", tc.name, len(got), got, len(tc.data), tc.data)
		}
		// Reading twice gives the same bytes.
		again, err := read(t.Context(), s, id, 0, -1)
		if err != nil || !bytes.Equal(again, tc.data) {
			t.Errorf("%s: second read: got (%d bytes, %v), want the same %d bytes", tc.name, len(again), err, len(tc.data))
		}
	}
	// io.Copy into a Writer works as well as Write (a Writer may have a
	// ReadFrom of its own).
	data := randBytes(100000, 2)
	w, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(w, bytes.NewReader(data)); err != nil || n != int64(len(data)) {
		t.Fatalf("io.Copy into Writer: got (%d, %v), want (%d, nil)", n, err, len(data))
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, err := read(t.Context(), s, w.ID(), 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Errorf("blob written with io.Copy: got (%d bytes, %v), want the %d bytes written", len(got), err, len(data))
	}
}

func testRanges(t *testing.T, s blob.Store) {
	data := randBytes(1000, 3)
	id := write(t, s, data)
	tests := []struct {
		offset, length int64
		want           []byte
	}{
		{0, -1, data},
		{0, 1000, data},
		{0, 10, data[:10]},
		{0, 1, data[:1]},
		{0, 0, nil},
		{10, -1, data[10:]},
		{10, 20, data[10:30]},
		{999, 1, data[999:]},
		{999, -1, data[999:]},
		{990, 100, data[990:]}, // past the end: what there is
		{500, 500, data[500:]},
		{1000, -1, nil}, // at the end
		{1000, 0, nil},
		{1000, 10, nil},
	}
	for _, tc := range tests {
		got, err := read(t.Context(), s, id, tc.offset, tc.length)
		if err != nil {
			t.Errorf("Open(offset %d, length %d): %v", tc.offset, tc.length, err)
			continue
		}
		if !bytes.Equal(got, tc.want) {
			t.Errorf("Open(offset %d, length %d): got %d bytes, want %d (bytes %d..)", tc.offset, tc.length, len(got), len(tc.want), tc.offset)
		}
	}
	// An empty blob.
	empty := write(t, s, nil)
	for _, length := range []int64{-1, 0, 5} {
		got, err := read(t.Context(), s, empty, 0, length)
		if err != nil || len(got) != 0 {
			t.Errorf("Open of an empty blob (length %d): got (%d bytes, %v), want (0, nil)", length, len(got), err)
		}
	}
}

func testNotCommitted(t *testing.T, s blob.Store) {
	w, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("pending")); err != nil {
		t.Fatal(err)
	}
	_, err = s.Open(t.Context(), w.ID(), 0, -1)
	if !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open before Commit: got %v, want %v", err, blob.ErrNotFound)
	}
	if ids := walk(t, s); len(ids) != 0 {
		t.Errorf("Walk before Commit: got %q, want nothing", ids)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, err := read(t.Context(), s, w.ID(), 0, -1); err != nil || string(got) != "pending" {
		t.Errorf("Open after Commit: got (%q, %v), want (%q, nil)", got, err, "pending")
	}
}

func testAbort(t *testing.T, s blob.Store) {
	keep := write(t, s, []byte("keep"))
	tests := []struct {
		name  string
		write []byte
	}{
		{"abort before writing", nil},
		{"abort after writing", randBytes(70000, 4)},
	}
	for _, tc := range tests {
		w, err := s.Create(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(tc.write); err != nil {
			t.Fatalf("%s: Write: %v", tc.name, err)
		}
		if err := w.Abort(); err != nil {
			t.Errorf("%s: Abort: %v", tc.name, err)
		}
		if err := w.Abort(); err != nil {
			t.Errorf("%s: second Abort: got %v, want nil", tc.name, err)
		}
		if _, err := w.Write([]byte("x")); err == nil {
			t.Errorf("%s: Write after Abort: got nil error, want one", tc.name)
		}
		if err := w.Commit(t.Context()); err == nil {
			t.Errorf("%s: Commit after Abort: got nil error, want one", tc.name)
		}
		_, err = s.Open(t.Context(), w.ID(), 0, -1)
		if !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("%s: Open after Abort: got %v, want %v", tc.name, err, blob.ErrNotFound)
		}
	}
	if ids := walk(t, s); !slices.Equal(ids, []string{keep}) {
		t.Errorf("Walk after aborts: got %q, want only %q", ids, keep)
	}
}

func testInvalidIDs(t *testing.T, s blob.Store) {
	id := write(t, s, []byte("data"))
	w, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	ids := []string{
		"", "zz", "..", "../x", "/", "/etc/passwd", "./" + id, id + "/", id + "x", id[:len(id)-1],
		"tmp", "tmp/" + w.ID(), "../" + id, id[:2] + "/" + id, "\x00", "%2e%2e%2fx",
		w.ID(), // not committed
	}
	if len(id) >= 2 {
		ids = append(ids, id[:2])
	}
	for _, bad := range ids {
		_, err := s.Open(t.Context(), bad, 0, -1)
		if !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Open(%q): got %v, want %v", bad, err, blob.ErrNotFound)
		}
		if err := s.Delete(t.Context(), bad); err != nil {
			t.Errorf("Delete(%q): got %v, want nil", bad, err)
		}
	}
	if got, err := read(t.Context(), s, id, 0, -1); err != nil || string(got) != "data" {
		t.Errorf("Open of a blob after Delete of invalid ids: got (%q, %v), want (%q, nil)", got, err, "data")
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Errorf("Commit of a writer after Delete of its id: %v", err)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	a := write(t, s, []byte("a"))
	b := write(t, s, []byte("b"))
	for i := range 2 {
		if err := s.Delete(t.Context(), a); err != nil {
			t.Errorf("Delete #%d: %v", i+1, err)
		}
	}
	_, err := s.Open(t.Context(), a, 0, -1)
	if !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open after Delete: got %v, want %v", err, blob.ErrNotFound)
	}
	if got, err := read(t.Context(), s, b, 0, -1); err != nil || string(got) != "b" {
		t.Errorf("Open of another blob after Delete: got (%q, %v), want (%q, nil)", got, err, "b")
	}
	// A blob open for reading can be deleted; the reader is unaffected or
	// fails, but does not hang.
	r, err := s.Open(t.Context(), b, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(t.Context(), b); err != nil {
		t.Errorf("Delete of an open blob: %v", err)
	}
	io.ReadAll(r)
	r.Close()
	if ids := walk(t, s); len(ids) != 0 {
		t.Errorf("Walk after deleting everything: got %q, want nothing", ids)
	}
}

func testWalk(t *testing.T, s blob.Store) {
	if ids := walk(t, s); len(ids) != 0 {
		t.Errorf("Walk of an empty store: got %q, want nothing", ids)
	}
	before := time.Now()
	var want []string
	for i := range 20 {
		want = append(want, write(t, s, []byte{byte(i)}))
	}
	after := time.Now()
	// Not committed, aborted, deleted: not walked.
	pending, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	pending.Write([]byte("pending"))
	defer pending.Abort()
	aborted, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	aborted.Write([]byte("aborted"))
	aborted.Abort()
	if err := s.Delete(t.Context(), want[0]); err != nil {
		t.Fatal(err)
	}
	want = want[1:]
	slices.Sort(want)

	var got []string
	err = s.Walk(t.Context(), func(id string, committed time.Time) error {
		got = append(got, id)
		// Timestamps may be coarser than time.Now's.
		if committed.Before(before.Add(-2*time.Second)) || committed.After(after.Add(2*time.Second)) {
			t.Errorf("Walk: blob %s committed at %v, want between %v and %v", id, committed, before, after)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("Walk: got %d ids %q, want %d %q", len(got), got, len(want), want)
	}

	// fn's error stops the walk and is returned.
	stop := errors.New("stop")
	calls := 0
	err = s.Walk(t.Context(), func(string, time.Time) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Walk whose fn fails: got (%v, %d calls), want (%v, 1 call)", err, calls, stop)
	}
}

func testSweep(t *testing.T, s blob.Store) {
	ctx := t.Context()
	if err := s.Sweep(ctx, 0); err != nil {
		t.Fatalf("Sweep(0) of an empty store: %v", err)
	}
	committed := write(t, s, []byte("committed"))

	// Sweep(1h) keeps a fresh writer, which can still commit.
	fresh, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Write([]byte("fresh")); err != nil {
		t.Fatal(err)
	}
	if err := s.Sweep(ctx, time.Hour); err != nil {
		t.Fatalf("Sweep(1h): %v", err)
	}
	if _, err := fresh.Write([]byte(" and more")); err != nil {
		t.Fatalf("Write after Sweep(1h): %v", err)
	}
	if err := fresh.Commit(ctx); err != nil {
		t.Fatalf("Commit after Sweep(1h): %v", err)
	}
	if got, err := read(ctx, s, fresh.ID(), 0, -1); err != nil || string(got) != "fresh and more" {
		t.Errorf("Open of a blob written across Sweep(1h): got (%q, %v), want (%q, nil)", got, err, "fresh and more")
	}

	// Writers abandoned as by a crash: Sweep(0) leaves the committed blobs
	// and nothing of them.
	var abandoned []string
	for i := range 3 {
		w, err := s.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(randBytes(1000*i, uint64(i)))
		abandoned = append(abandoned, w.ID())
	}
	if err := s.Sweep(ctx, 0); err != nil {
		t.Fatalf("Sweep(0): %v", err)
	}
	for _, id := range abandoned {
		if _, err := s.Open(ctx, id, 0, -1); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Open of an abandoned blob after Sweep(0): got %v, want %v", err, blob.ErrNotFound)
		}
	}
	want := []string{committed, fresh.ID()}
	slices.Sort(want)
	if ids := walk(t, s); !slices.Equal(ids, want) {
		t.Errorf("Walk after Sweep(0): got %q, want %q", ids, want)
	}
	for _, id := range want {
		if _, err := read(ctx, s, id, 0, -1); err != nil {
			t.Errorf("Open of committed blob %s after Sweep(0): %v", id, err)
		}
	}
	if err := s.Sweep(ctx, 0); err != nil {
		t.Errorf("second Sweep(0): %v", err)
	}
}

func testLarge(t *testing.T, s blob.Store) {
	const size = 8 << 20
	data := randBytes(size, 5)
	w, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Odd-sized writes, so no write lines up with a buffer.
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 1<<20-7)
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := read(t.Context(), s, w.ID(), 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		i := 0
		for i < min(len(got), len(data)) && got[i] == data[i] {
			i++
		}
		t.Fatalf("8 MiB blob: got %d bytes, want %d; first difference at byte %d", len(got), len(data), i)
	}
	for _, r := range []struct{ off, n int64 }{{size - 1, -1}, {1 << 20, 1 << 20}, {size/2 + 3, 12345}} {
		want := data[r.off:]
		if r.n >= 0 {
			want = want[:r.n]
		}
		if got, err := read(t.Context(), s, w.ID(), r.off, r.n); err != nil || !bytes.Equal(got, want) {
			t.Errorf("8 MiB blob, Open(offset %d, length %d): got (%d bytes, %v), want %d bytes", r.off, r.n, len(got), err, len(want))
		}
	}
}

// testConcurrent: writers and readers in parallel get their own bytes.
func testConcurrent(t *testing.T, s blob.Store) {
	const n = 16
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = func() error {
				data := randBytes(10000+i, uint64(100+i))
				w, err := s.Create(t.Context())
				if err != nil {
					return err
				}
				ids[i] = w.ID()
				if _, err := w.Write(data); err != nil {
					return err
				}
				if i%4 == 3 {
					return w.Abort()
				}
				if err := w.Commit(t.Context()); err != nil {
					return err
				}
				for range 3 {
					got, err := read(t.Context(), s, w.ID(), int64(i), -1)
					if err != nil {
						return err
					}
					if !bytes.Equal(got, data[i:]) {
						return fmt.Errorf("got %d bytes, want %d", len(got), len(data)-i)
					}
				}
				return nil
			}()
		})
	}
	wg.Wait()
	var want []string
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
		if i%4 != 3 {
			want = append(want, ids[i])
		}
	}
	slices.Sort(want)
	if got := walk(t, s); !slices.Equal(got, want) {
		t.Errorf("Walk after concurrent writers: got %d ids, want %d", len(got), len(want))
	}
	if len(slices.Compact(slices.Clone(want))) != len(want) {
		t.Errorf("concurrent Creates handed out the same id twice: %q", want)
	}
}
