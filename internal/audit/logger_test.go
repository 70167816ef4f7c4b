package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to read while the Logger writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func typical(i int) Record {
	return Record{
		Time:       time.Date(2025, 3, 1, 12, 0, 0, i, time.UTC),
		RequestID:  fmt.Sprintf("REQ%08d", i),
		Principal:  "AKIAEXAMPLE",
		SourceIP:   "192.0.2.10",
		Action:     "s3:PutObject",
		Bucket:     "photos",
		Key:        fmt.Sprintf("2024/img-%d.jpg", i),
		VersionID:  "3HL4kqtJlcpXroDTDmJ",
		Status:     200,
		BytesIn:    int64(1000 + i),
		DurationMS: 1.5,
		UserAgent:  "aws-cli/2.15.0 Python/3.11",
	}
}

// readLines parses every line of data, failing on a malformed one.
func readLines(t *testing.T, data string) []Record {
	t.Helper()
	var recs []Record
	sc := bufio.NewScanner(strings.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d %q: %v", n, sc.Text(), err)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

func checkExactlyOnce(t *testing.T, recs []Record, want int) {
	t.Helper()
	seen := make(map[string]int, len(recs))
	for _, r := range recs {
		seen[r.RequestID]++
	}
	if len(recs) != want || len(seen) != want {
		t.Fatalf("got %d lines, %d distinct records; want %d", len(recs), len(seen), want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("record %s written %d times", id, n)
		}
	}
}

func TestLogConcurrent(t *testing.T) {
	const goroutines, each = 32, 1000 // more records than BufferSize
	for _, kind := range []string{"writer", "file"} {
		t.Run(kind, func(t *testing.T) {
			var (
				l    *Logger
				path = filepath.Join(t.TempDir(), "audit.log")
			)
			if kind == "writer" {
				// As the server's stdout would be.
				f, err := os.Create(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				l = New(f)
			} else {
				var err error
				if l, err = Open(path, RotateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range each {
						r := typical(g*each + i)
						r.RequestID = fmt.Sprintf("G%03d-%05d", g, i)
						l.Log(r)
					}
				})
			}
			wg.Wait()
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if d := l.Dropped(); d != 0 {
				t.Fatalf("Dropped = %d", d)
			}
			recs := readLines(t, mustRead(t, path))
			checkExactlyOnce(t, recs, goroutines*each)

			// Each goroutine's records are in the order it logged them.
			last := map[string]string{}
			for _, r := range recs {
				g, i, _ := strings.Cut(r.RequestID, "-")
				if prev, ok := last[g]; ok && prev >= i {
					t.Fatalf("goroutine %s: record %s after %s", g, i, prev)
				}
				last[g] = i
			}
		})
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	const maxBytes, maxFiles, total = 4096, 3, 2000
	l, err := Open(path, RotateOptions{MaxBytes: maxBytes, MaxFiles: maxFiles})
	if err != nil {
		t.Fatal(err)
	}
	for i := range total {
		l.Log(typical(i))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Dropped() != 0 {
		t.Fatalf("Dropped = %d", l.Dropped())
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"audit.log", "audit.log.1", "audit.log.2", "audit.log.3"}
	if !slices.Equal(names, want) {
		t.Fatalf("files = %v, want %v", names, want)
	}

	files, err := LogFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{path + ".3", path + ".2", path + ".1", path}
	if !slices.Equal(files, wantFiles) {
		t.Fatalf("LogFiles = %v, want %v", files, wantFiles)
	}

	// Oldest first, the files hold a contiguous run of the last records
	// logged, each file whole lines of valid JSON within MaxBytes.
	var all []Record
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f, fi.Mode().Perm())
		}
		if fi.Size() > maxBytes {
			t.Errorf("%s: %d bytes > MaxBytes", f, fi.Size())
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 || b[len(b)-1] != '\n' {
			t.Fatalf("%s does not end in a whole line", f)
		}
		all = append(all, readLines(t, string(b))...)
	}
	if len(all) == 0 || len(all) >= total {
		t.Fatalf("kept %d records of %d; want some, not all", len(all), total)
	}
	first := total - len(all)
	for i, r := range all {
		if want := fmt.Sprintf("REQ%08d", first+i); r.RequestID != want {
			t.Fatalf("record %d is %s, want %s", i, r.RequestID, want)
		}
	}
}

func TestRotationLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path, RotateOptions{MaxBytes: 100, MaxFiles: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		l.Log(typical(i)) // each longer than 100 bytes
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := LogFiles(path)
	if len(files) != 3 {
		t.Fatalf("files = %v, want one per record", files)
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if n := len(readLines(t, string(b))); n != 1 {
			t.Fatalf("%s holds %d records", f, n)
		}
	}
}

func TestOpenAppendsAndEndsPartialLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, []byte("{\"time\":\"2025-01-01T00:00:00Z\"}\n{\"time\":\"2025-01-0"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := Open(path, RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l.Log(typical(1))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 3 || lines[1] != `{"time":"2025-01-0` {
		t.Fatalf("file = %q", b)
	}
	_, err = Summarize(bytes.NewReader(b), SummaryOptions{})
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("Summarize error = %v, want one about line 2", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing", "audit.log"), RotateOptions{}); err == nil {
		t.Error("Open in a missing directory succeeded")
	}
	if _, err := Open(t.TempDir(), RotateOptions{}); err == nil {
		t.Error("Open of a directory succeeded")
	}
}

func TestNilLogger(t *testing.T) {
	var l *Logger
	l.Log(typical(1))
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Dropped() != 0 {
		t.Fatal("nil logger dropped records")
	}
}

func TestFlushAndLogAfterClose(t *testing.T) {
	var buf syncBuffer
	l := New(&buf)
	l.Log(typical(1))
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := len(readLines(t, buf.String())); n != 1 {
		t.Fatalf("after Flush: %d lines", n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	l.Log(typical(2))
	if l.Dropped() != 1 {
		t.Fatalf("Dropped = %d after logging to a closed logger", l.Dropped())
	}
	if err := l.Flush(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Close = %v", err)
	}
	if n := len(readLines(t, buf.String())); n != 1 {
		t.Fatalf("after Close: %d lines", n)
	}
}

// gateWriter blocks every Write until open is closed.
type gateWriter struct {
	open chan struct{}
	buf  syncBuffer
}

func (g *gateWriter) Write(p []byte) (int, error) {
	<-g.open
	return g.buf.Write(p)
}

func TestFullQueueCountsDrops(t *testing.T) {
	g := &gateWriter{open: make(chan struct{})}
	const size, logged = 8, 20
	l := newLogger(writerSink{g}, size, 5*time.Millisecond)
	start := time.Now()
	for i := range logged {
		l.Log(typical(i))
	}
	// The blocked writer holds what it took before blocking, the queue
	// size more; each of the others waited about 5ms and was dropped.
	dropped := l.Dropped()
	if dropped == 0 || dropped == logged {
		t.Fatalf("Dropped = %d of %d with a queue of %d", dropped, logged, size)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("Log blocked too long")
	}
	close(g.open)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	written := len(readLines(t, g.buf.String()))
	if uint64(written)+l.Dropped() != logged {
		t.Fatalf("written %d + dropped %d != logged %d", written, l.Dropped(), logged)
	}
}

// slowWriter takes 5ms per Write: slow, but making progress.
type slowWriter struct{ buf syncBuffer }

func (s *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(5 * time.Millisecond)
	return s.buf.Write(p)
}

func TestSlowWriterBackpressure(t *testing.T) {
	w := &slowWriter{}
	// Each Write takes 5ms, much longer than a Log call, so the tiny
	// queue stays full; but the writer keeps taking lines within the
	// 50ms MaxBlock, so callers wait instead of dropping.
	l := newLogger(writerSink{w}, 4, 50*time.Millisecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				r := typical(g*25 + i)
				l.Log(r)
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Dropped() != 0 {
		t.Fatalf("Dropped = %d with a slow but live writer", l.Dropped())
	}
	checkExactlyOnce(t, readLines(t, w.buf.String()), 200)
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestWriteErrorReported(t *testing.T) {
	l := New(failWriter{})
	l.Log(typical(1))
	l.Log(typical(2))
	err := l.Close()
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Close = %v", err)
	}
	if l.Dropped() != 2 {
		t.Fatalf("Dropped = %d, want 2", l.Dropped())
	}
}

func TestLogTime(t *testing.T) {
	var buf syncBuffer
	l := New(&buf)
	paris := time.FixedZone("CET", 3600)
	l.Log(Record{Time: time.Date(2025, 3, 1, 13, 0, 0, 500, paris), Action: "s3:ListBuckets"})
	before := time.Now()
	l.Log(Record{Action: "s3:ListBuckets"})
	l.Close()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if !strings.HasPrefix(lines[0], `{"time":"2025-03-01T12:00:00.0000005Z",`) {
		t.Fatalf("line = %s", lines[0])
	}
	recs := readLines(t, buf.String())
	if recs[1].Time.Before(before.Add(-time.Second)) || recs[1].Time.Location() != time.UTC {
		t.Fatalf("zero time filled as %v", recs[1].Time)
	}
}

func TestLogRepairsUnencodable(t *testing.T) {
	var buf syncBuffer
	l := New(&buf)
	before := time.Now().Add(-time.Second)
	l.Log(Record{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Action: "s3:GetObject", DurationMS: math.NaN()})
	l.Log(Record{Time: before, Action: "s3:GetObject", DurationMS: math.Inf(1)})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readLines(t, buf.String())
	if len(recs) != 2 || l.Dropped() != 0 {
		t.Fatalf("%d records, %d dropped", len(recs), l.Dropped())
	}
	if recs[0].Time.Before(before) || recs[0].DurationMS != 0 || recs[1].DurationMS != 0 {
		t.Fatalf("records = %+v", recs)
	}
}

func TestRecordJSON(t *testing.T) {
	r := Record{
		Time:      time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
		Principal: PrincipalLifecycle,
		Action:    "lifecycle:Transition",
		Bucket:    "photos",
		Key:       "a&b<c>",
		Detail:    map[string]string{"storage_class": "GLACIER", "rule": "tiers"},
	}
	var buf bytes.Buffer
	if err := r.appendJSON(&buf); err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2025-03-01T00:00:00Z","principal":"system:lifecycle","action":"lifecycle:Transition",` +
		`"bucket":"photos","key":"a&b<c>","detail":{"rule":"tiers","storage_class":"GLACIER"}}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}

	// A key with a newline stays on one line.
	buf.Reset()
	r = Record{Time: r.Time, Key: "evil\n{\"principal\":\"root\"}"}
	r.appendJSON(&buf)
	if strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("newline in key split the line: %q", buf.String())
	}
}

func TestRecordHasNoSecrets(t *testing.T) {
	// The documented fields, and nothing else: a new field must be
	// documented in doc.go and checked for secrets before it is added here.
	want := []string{"time", "request_id", "principal", "source_ip", "action", "bucket", "key",
		"version_id", "status", "error_code", "bytes_in", "bytes_out", "duration_ms", "user_agent", "detail"}
	var got []string
	rt := reflect.TypeFor[Record]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		got = append(got, name)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Record fields = %v, want %v", got, want)
	}

	r := typical(7)
	r.Status, r.ErrorCode = 403, "SignatureDoesNotMatch"
	r.Detail = map[string]string{"rule": "tiers"}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"Authorization", "authorization", "Signature=", "X-Amz-Signature",
		"X-Amz-Credential", "X-Amz-Security-Token", "secret", "customer-key"} {
		if bytes.Contains(b, []byte(bad)) {
			t.Errorf("marshalled record contains %q: %s", bad, b)
		}
	}
}

func TestSortChronological(t *testing.T) {
	in := []string{"b.log", "a.log", "a.log.1", "a.log.10", "a.log.2", "b.log.1", "a.log.02"}
	got := sortChronological(in)
	want := []string{"a.log.10", "a.log.2", "a.log.1", "a.log", "a.log.02", "b.log.1", "b.log"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func BenchmarkLog(b *testing.B) {
	path := filepath.Join(b.TempDir(), "audit.log")
	l, err := Open(path, RotateOptions{MaxBytes: 64 << 20, MaxFiles: 2})
	if err != nil {
		b.Fatal(err)
	}
	r := typical(1)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Log(r)
		}
	})
	if err := l.Close(); err != nil { // included: the records must be on disk
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(l.Dropped()), "dropped")
}
