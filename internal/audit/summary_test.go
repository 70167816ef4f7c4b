package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const fixture = `{"time":"2025-03-01T10:00:00Z","request_id":"R1","principal":"AKIA1","source_ip":"192.0.2.1","action":"s3:PutObject","bucket":"photos","key":"a.jpg","status":200,"bytes_in":100,"duration_ms":2.5}
{"time":"2025-03-01T10:05:00Z","request_id":"R2","principal":"AKIA1","source_ip":"192.0.2.1","action":"s3:GetObject","bucket":"photos","key":"a.jpg","status":200,"bytes_out":100}
{"time":"2025-03-01T10:10:00Z","request_id":"R3","principal":"anonymous","source_ip":"203.0.113.5","action":"s3:GetObject","bucket":"photos","key":"secret.txt","status":403,"error_code":"AccessDenied"}

{"time":"2025-03-01T10:15:00Z","request_id":"R4","principal":"AKIA2","source_ip":"192.0.2.2","action":"s3:DeleteObject","bucket":"docs","key":"x","status":403,"error_code":"AccessDenied"}
{"time":"2025-03-01T10:20:00Z","request_id":"R5","principal":"AKIA2","source_ip":"192.0.2.2","action":"s3:GetObject","bucket":"docs","key":"y","status":404,"error_code":"NoSuchKey","future_field":true}
{"time":"2025-03-01T10:25:00Z","principal":"system:lifecycle","action":"lifecycle:Transition","bucket":"photos","key":"old.jpg","detail":{"rule":"tiers","storage_class":"GLACIER"}}
{"time":"2025-03-01T11:00:00Z","request_id":"R7","principal":"AKIA1","source_ip":"192.0.2.1","action":"s3:PutObject","bucket":"docs","key":"z","status":500,"bytes_in":50}
{"time":"2025-03-01T09:55:00Z","request_id":"R8","principal":"AKIABAD","source_ip":"198.51.100.7","action":"s3:ListBuckets","status":403,"error_code":"SignatureDoesNotMatch"}
{"time":"2025-03-01T12:00:00Z","request_id":"R9","principal":"anonymous","source_ip":"203.0.113.5","action":"s3:GetObject","bucket":"photos","key":"\u001b[31mred\tkey","status":403,"error_code":"AccessDenied"}
`

func at(hm string) time.Time {
	t, err := time.Parse(time.RFC3339, "2025-03-01T"+hm+":00Z")
	if err != nil {
		panic(err)
	}
	return t
}

func summarize(t *testing.T, opts SummaryOptions) *Summary {
	t.Helper()
	s, err := Summarize(strings.NewReader(fixture), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func deniedIDs(s *Summary) []string {
	var ids []string
	for _, d := range s.Denied {
		ids = append(ids, d.RequestID)
	}
	return ids
}

func TestSummarize(t *testing.T) {
	s := summarize(t, SummaryOptions{})
	if s.Total != 9 {
		t.Errorf("Total = %d, want 9", s.Total)
	}
	if !s.First.Equal(at("09:55")) || !s.Last.Equal(at("12:00")) {
		t.Errorf("First, Last = %v, %v", s.First, s.Last)
	}

	// Who did what.
	a1 := s.Principals["AKIA1"]
	if a1 == nil || a1.Requests != 3 || a1.Actions["s3:PutObject"] != 2 || a1.Actions["s3:GetObject"] != 1 ||
		a1.BytesIn != 150 || a1.BytesOut != 100 || a1.Errors != 1 || a1.Denied != 0 {
		t.Errorf("AKIA1 = %+v", a1)
	}
	if an := s.Principals[PrincipalAnonymous]; an == nil || an.Requests != 2 || an.Denied != 2 || an.Actions["s3:GetObject"] != 2 {
		t.Errorf("anonymous = %+v", an)
	}
	if lc := s.Principals[PrincipalLifecycle]; lc == nil || lc.Actions["lifecycle:Transition"] != 1 || lc.Errors != 0 {
		t.Errorf("lifecycle = %+v", lc)
	}
	if len(s.Principals) != 5 {
		t.Errorf("%d principals, want 5", len(s.Principals))
	}

	// Denied requests, in time order whatever the order of the lines.
	if s.DeniedTotal != 4 || s.DeniedOmitted != 0 {
		t.Errorf("DeniedTotal, DeniedOmitted = %d, %d", s.DeniedTotal, s.DeniedOmitted)
	}
	if got, want := deniedIDs(s), []string{"R8", "R3", "R4", "R9"}; !slices.Equal(got, want) {
		t.Errorf("denied = %v, want %v", got, want)
	}
	d := s.Denied[1]
	if d.Principal != "anonymous" || d.Action != "s3:GetObject" || d.Bucket != "photos" || d.Key != "secret.txt" ||
		!d.Time.Equal(at("10:10")) || d.SourceIP != "203.0.113.5" || d.ErrorCode != "AccessDenied" {
		t.Errorf("denied[1] = %+v", d)
	}

	wantErrs := map[string]int64{"AccessDenied": 3, "SignatureDoesNotMatch": 1, "NoSuchKey": 1, "HTTP 500": 1}
	if fmt.Sprint(s.Errors) != fmt.Sprint(wantErrs) {
		t.Errorf("Errors = %v, want %v", s.Errors, wantErrs)
	}
}

func TestSummarizeDeniedLimit(t *testing.T) {
	s := summarize(t, SummaryOptions{DeniedLimit: 2})
	if got, want := deniedIDs(s), []string{"R8", "R3"}; !slices.Equal(got, want) {
		t.Errorf("denied = %v, want the earliest two %v", got, want)
	}
	if s.DeniedTotal != 4 || s.DeniedOmitted != 2 {
		t.Errorf("DeniedTotal, DeniedOmitted = %d, %d", s.DeniedTotal, s.DeniedOmitted)
	}
	s = summarize(t, SummaryOptions{DeniedLimit: -1})
	if len(s.Denied) != 0 || s.DeniedTotal != 4 || s.DeniedOmitted != 4 {
		t.Errorf("no list: %d listed, total %d, omitted %d", len(s.Denied), s.DeniedTotal, s.DeniedOmitted)
	}
}

func TestSummarizeFilters(t *testing.T) {
	// From is inclusive, To exclusive.
	s := summarize(t, SummaryOptions{From: at("10:10"), To: at("11:00")})
	if s.Total != 4 || !s.First.Equal(at("10:10")) || !s.Last.Equal(at("10:25")) {
		t.Errorf("window: total %d, %v .. %v", s.Total, s.First, s.Last)
	}
	if got, want := deniedIDs(s), []string{"R3", "R4"}; !slices.Equal(got, want) {
		t.Errorf("window: denied = %v, want %v", got, want)
	}
	if _, ok := s.Principals["AKIABAD"]; ok {
		t.Error("window: record before From counted")
	}

	s = summarize(t, SummaryOptions{From: at("10:00")})
	if s.Total != 8 {
		t.Errorf("From only: total %d, want 8", s.Total)
	}
	s = summarize(t, SummaryOptions{To: at("10:00")})
	if s.Total != 1 {
		t.Errorf("To only: total %d, want 1", s.Total)
	}

	s = summarize(t, SummaryOptions{Principal: "AKIA2"})
	if s.Total != 2 || len(s.Principals) != 1 || s.Principals["AKIA2"].Denied != 1 {
		t.Errorf("principal: total %d, principals %v", s.Total, s.Principals)
	}
	s = summarize(t, SummaryOptions{Bucket: "photos"})
	if s.Total != 5 || s.DeniedTotal != 2 {
		t.Errorf("bucket: total %d, denied %d", s.Total, s.DeniedTotal)
	}
	s = summarize(t, SummaryOptions{Bucket: "photos", Principal: "nobody"})
	if s.Total != 0 || !s.First.IsZero() || len(s.Denied) != 0 {
		t.Errorf("nothing selected: %+v", s)
	}
}

func TestSummarizeMalformed(t *testing.T) {
	for _, bad := range []string{`not json`, `{"time":"2025-03-01T10:00:00Z",`, `null`, `[]`, `{"action":"s3:GetObject"}`,
		`{"time":"yesterday"}`, `{"time":"2025-03-01T10:00:00Z","status":"200"}`} {
		in := fixture + bad + "\n" + fixture
		_, err := Summarize(strings.NewReader(in), SummaryOptions{})
		if err == nil || !strings.Contains(err.Error(), "line 11:") {
			t.Errorf("%s: error = %v, want one naming line 11", bad, err)
		}
	}
	long := fixture + `{"time":"2025-03-01T10:00:00Z","key":"` + strings.Repeat("k", maxLine) + "\"}\n"
	if _, err := Summarize(strings.NewReader(long), SummaryOptions{}); err == nil || !strings.Contains(err.Error(), "line 11:") {
		t.Errorf("long line: error = %v", err)
	}
	// Blank lines only is an empty summary, not an error.
	s, err := Summarize(strings.NewReader("\n  \n"), SummaryOptions{})
	if err != nil || s.Total != 0 {
		t.Errorf("blank: %v, %v", s, err)
	}
}

func TestSummaryJSON(t *testing.T) {
	s := summarize(t, SummaryOptions{DeniedLimit: 1, Bucket: "photos"})
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["total"] != 5.0 || m["bucket_filter"] != "photos" || m["denied_total"] != 2.0 || m["denied_omitted"] != 1.0 {
		t.Errorf("json = %s", b)
	}
	if _, ok := m["from"]; ok {
		t.Errorf("zero From encoded: %s", b)
	}
	actions := m["principals"].(map[string]any)["AKIA1"].(map[string]any)["actions"].(map[string]any)
	if actions["s3:GetObject"] != 1.0 {
		t.Errorf("actions = %v", actions)
	}
	var back Summary
	if err := json.Unmarshal(b, &back); err != nil || back.Total != s.Total || len(back.Denied) != 1 {
		t.Errorf("round trip: %+v, %v", back, err)
	}

	// An empty summary encodes empty collections, not null.
	empty, _ := Summarize(strings.NewReader(""), SummaryOptions{})
	b, _ = json.Marshal(empty)
	if bytes.Contains(b, []byte("null")) {
		t.Errorf("empty summary = %s", b)
	}
}

func TestWriteText(t *testing.T) {
	s := summarize(t, SummaryOptions{From: at("09:00"), DeniedLimit: 3})
	var buf bytes.Buffer
	if err := s.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	t.Logf("\n%s", out)
	for _, want := range []string{
		"Window    2025-03-01T09:00:00Z .. *",
		"Records   2025-03-01T09:55:00Z .. 2025-03-01T12:00:00Z",
		"Requests  9",
		"Denied requests (earliest 3 of 4)",
		"... and 1 more",
		"AccessDenied           3",
		"HTTP 500               1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.ContainsAny(out, "\x1b\t") {
		t.Error("output holds a raw escape or tab from a key")
	}

	// Tables are aligned: in each, every column starts at the offset of
	// its header.
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "PRINCIPAL") && !strings.HasPrefix(l, "TIME") && !strings.HasPrefix(l, "CODE") {
			continue
		}
		header := l
		var cols []int
		for j := 1; j < len(header); j++ {
			if header[j] != ' ' && header[j-1] == ' ' && header[j-2] == ' ' {
				cols = append(cols, j)
			}
		}
		for _, row := range lines[i+1:] {
			if row == "" || strings.HasPrefix(row, "...") {
				break
			}
			for _, c := range cols {
				if len(row) <= c || row[c] == ' ' || row[c-1] != ' ' {
					t.Errorf("row %q not aligned with header %q at %d", row, header, c)
				}
			}
		}
	}

	// The escaped key shows, quoted.
	s = summarize(t, SummaryOptions{From: at("11:30")})
	buf.Reset()
	s.WriteText(&buf)
	if !strings.Contains(buf.String(), `"\x1b[31mred\tkey"`) {
		t.Errorf("escaped key missing:\n%s", buf.String())
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"":               "-",
		"photos/a b.jpg": "photos/a b.jpg",
		"café":           "café",
		"a\tb":           `"a\tb"`,
		"\xff":           `"\xff"`,
		"x\u202egpj.exe": `"x\u202egpj.exe"`,
		`"quoted"`:       `"\"quoted\""`,
		"line\nbreak":    `"line\nbreak"`,
		"\uFFFDreplaced": "\uFFFDreplaced",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestSummarizeFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	l, err := Open(path, RotateOptions{MaxBytes: 2048, MaxFiles: 100})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		r := typical(i)
		if i%10 == 0 {
			r.Status, r.ErrorCode = 403, "AccessDenied"
		}
		l.Log(r)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := LogFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("only %d files", len(files))
	}
	shuffled := slices.Clone(files)
	slices.Reverse(shuffled)
	s, err := SummarizeFiles(shuffled, SummaryOptions{DeniedLimit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if s.Total != n || s.DeniedTotal != n/10 || s.DeniedOmitted != n/10-5 {
		t.Fatalf("total %d, denied %d, omitted %d", s.Total, s.DeniedTotal, s.DeniedOmitted)
	}
	if got, want := deniedIDs(s), []string{"REQ00000000", "REQ00000010", "REQ00000020", "REQ00000030", "REQ00000040"}; !slices.Equal(got, want) {
		t.Fatalf("denied = %v", got)
	}

	// An error names the file and the line.
	bad := files[1]
	f, _ := os.OpenFile(bad, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("garbage\n")
	f.Close()
	lines := strings.Count(mustRead(t, bad), "\n")
	_, err = SummarizeFiles(files, SummaryOptions{})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%s: line %d:", bad, lines)) {
		t.Fatalf("error = %v", err)
	}
	if _, err := SummarizeFiles([]string{filepath.Join(dir, "nope")}, SummaryOptions{}); err == nil {
		t.Fatal("missing file: no error")
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
