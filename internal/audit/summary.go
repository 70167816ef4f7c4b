package audit

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"time"
)

const (
	// DefaultDeniedLimit is how many denied requests a Summary lists
	// when SummaryOptions.DeniedLimit is zero.
	DefaultDeniedLimit = 100
	// maxLine bounds one line of the log when reading it back.
	maxLine = 4 << 20
)

// SummaryOptions selects the records Summarize counts.
type SummaryOptions struct {
	// From, if not zero, drops records before it (it is inclusive).
	From time.Time
	// To, if not zero, drops records at or after it (it is exclusive).
	To time.Time
	// Principal, if not empty, keeps only that principal's records.
	Principal string
	// Bucket, if not empty, keeps only records about that bucket.
	Bucket string
	// DeniedLimit caps Summary.Denied: zero means DefaultDeniedLimit, a
	// negative value lists none (they are still counted).
	DeniedLimit int
}

// Summary is what an audit log says about a period: who did what, what
// was refused, what failed. Its JSON form uses the struct tags below;
// WriteText prints it for people.
type Summary struct {
	// From, To, Principal and Bucket echo the filter of SummaryOptions.
	From      time.Time `json:"from,omitzero"`
	To        time.Time `json:"to,omitzero"`
	Principal string    `json:"principal_filter,omitempty"`
	Bucket    string    `json:"bucket_filter,omitempty"`

	// First and Last are the earliest and latest times of the records
	// counted; zero if none was.
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`

	// Total is the number of records counted.
	Total int64 `json:"total"`
	// Principals maps each principal to what it did.
	Principals map[string]*PrincipalSummary `json:"principals"`
	// Errors counts failed records by S3 error code; a record with a
	// status of 400 or more but no code counts under "HTTP <status>".
	Errors map[string]int64 `json:"errors"`

	// DeniedTotal is the number of denied (403) requests.
	DeniedTotal int64 `json:"denied_total"`
	// Denied lists the earliest denied requests, at most DeniedLimit of
	// them, in time order.
	Denied []DeniedRequest `json:"denied"`
	// DeniedOmitted is how many denied requests Denied leaves out.
	DeniedOmitted int64 `json:"denied_omitted"`
}

// PrincipalSummary is what one principal did.
type PrincipalSummary struct {
	// Requests is the number of its records.
	Requests int64 `json:"requests"`
	// Actions counts its records by action.
	Actions map[string]int64 `json:"actions"`
	// Denied is the number of its requests answered 403.
	Denied int64 `json:"denied"`
	// Errors is the number of its records with an error code or a status
	// of 400 or more (Denied included).
	Errors int64 `json:"errors"`
	// BytesIn and BytesOut add up its records' byte counts.
	BytesIn  int64 `json:"bytes_in"`
	BytesOut int64 `json:"bytes_out"`
}

// DeniedRequest is one request answered 403; its fields are those of
// the Record it comes from.
type DeniedRequest struct {
	Time      time.Time `json:"time"`
	Principal string    `json:"principal,omitempty"`
	SourceIP  string    `json:"source_ip,omitempty"`
	Action    string    `json:"action,omitempty"`
	Bucket    string    `json:"bucket,omitempty"`
	Key       string    `json:"key,omitempty"`
	ErrorCode string    `json:"error_code,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
}

// Summarize reads an audit log, one JSON record per line, and sums up the
// records opts selects. Blank lines are skipped. A line that is not a
// JSON object with a time, or is longer than 4 MiB, is an error naming
// its line number; nothing is summed then. Fields Summarize does not
// know are ignored, so newer logs stay readable.
func Summarize(r io.Reader, opts SummaryOptions) (*Summary, error) {
	z := newSummarizer(opts)
	if err := z.read(r, ""); err != nil {
		return nil, err
	}
	return z.finish(), nil
}

// SummarizeFiles summarizes several log files as one. It reads them in
// chronological order under the naming of Open, whatever order paths are
// given in (path.2 before path.1 before path); LogFiles lists a log and
// its rotated siblings. Errors name the file. Reading a log that is
// being written and rotated is best-effort: a rotation between opening
// two files may skip or repeat one.
func SummarizeFiles(paths []string, opts SummaryOptions) (*Summary, error) {
	z := newSummarizer(opts)
	for _, p := range sortChronological(paths) {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		err = z.read(f, p)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return z.finish(), nil
}

type summarizer struct {
	opts  SummaryOptions
	limit int
	s     *Summary
	// denied keeps the earliest limit denied requests: a max-heap on
	// (time, seq), whose top is the first to go.
	denied deniedHeap
	seq    int64
}

func newSummarizer(opts SummaryOptions) *summarizer {
	limit := opts.DeniedLimit
	if limit == 0 {
		limit = DefaultDeniedLimit
	}
	return &summarizer{
		opts:  opts,
		limit: max(limit, 0),
		s: &Summary{
			From:       opts.From,
			To:         opts.To,
			Principal:  opts.Principal,
			Bucket:     opts.Bucket,
			Principals: map[string]*PrincipalSummary{},
			Errors:     map[string]int64{},
		},
	}
}

func (z *summarizer) read(r io.Reader, name string) error {
	where := func(line int) string {
		if name == "" {
			return fmt.Sprintf("line %d", line)
		}
		return fmt.Sprintf("%s: line %d", name, line)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var rec Record
		if b[0] != '{' {
			return fmt.Errorf("audit: %s: malformed record: not a JSON object", where(line))
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			return fmt.Errorf("audit: %s: malformed record: %w", where(line), err)
		}
		if rec.Time.IsZero() {
			return fmt.Errorf("audit: %s: malformed record: no time", where(line))
		}
		z.add(&rec)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("audit: %s: line longer than %d bytes", where(line+1), maxLine)
		}
		if name != "" {
			return fmt.Errorf("audit: %s: %w", name, err)
		}
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func (z *summarizer) add(r *Record) {
	o := &z.opts
	if !o.From.IsZero() && r.Time.Before(o.From) ||
		!o.To.IsZero() && !r.Time.Before(o.To) ||
		o.Principal != "" && r.Principal != o.Principal ||
		o.Bucket != "" && r.Bucket != o.Bucket {
		return
	}
	s := z.s
	t := r.Time.UTC()
	if s.Total == 0 || t.Before(s.First) {
		s.First = t
	}
	if s.Total == 0 || t.After(s.Last) {
		s.Last = t
	}
	s.Total++

	p := s.Principals[r.Principal]
	if p == nil {
		p = &PrincipalSummary{Actions: map[string]int64{}}
		s.Principals[r.Principal] = p
	}
	p.Requests++
	p.Actions[r.Action]++
	p.BytesIn += r.BytesIn
	p.BytesOut += r.BytesOut

	code := r.ErrorCode
	if code == "" && r.Status >= 400 {
		code = "HTTP " + strconv.Itoa(r.Status)
	}
	if code != "" {
		s.Errors[code]++
		p.Errors++
	}

	if r.Status == 403 {
		s.DeniedTotal++
		p.Denied++
		d := deniedEntry{seq: z.seq, DeniedRequest: DeniedRequest{
			Time: t, Principal: r.Principal, SourceIP: r.SourceIP, Action: r.Action,
			Bucket: r.Bucket, Key: r.Key, ErrorCode: r.ErrorCode, RequestID: r.RequestID,
		}}
		z.seq++
		switch {
		case z.limit == 0:
		case len(z.denied) < z.limit:
			heap.Push(&z.denied, d)
		case d.less(z.denied[0]):
			z.denied[0] = d
			heap.Fix(&z.denied, 0)
		}
	}
}

func (z *summarizer) finish() *Summary {
	sort.Slice(z.denied, func(i, j int) bool { return z.denied[i].less(z.denied[j]) })
	s := z.s
	s.Denied = make([]DeniedRequest, len(z.denied))
	for i, d := range z.denied {
		s.Denied[i] = d.DeniedRequest
	}
	s.DeniedOmitted = s.DeniedTotal - int64(len(s.Denied))
	return s
}

type deniedEntry struct {
	DeniedRequest
	seq int64
}

func (a deniedEntry) less(b deniedEntry) bool {
	if !a.Time.Equal(b.Time) {
		return a.Time.Before(b.Time)
	}
	return a.seq < b.seq
}

// deniedHeap is a max-heap: its top is the latest entry.
type deniedHeap []deniedEntry

func (h deniedHeap) Len() int           { return len(h) }
func (h deniedHeap) Less(i, j int) bool { return h[j].less(h[i]) }
func (h deniedHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deniedHeap) Push(x any)        { *h = append(*h, x.(deniedEntry)) }
func (h *deniedHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
