package audit

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"
)

// WriteText prints s for people: a header, then aligned tables of
// requests and bytes per principal, actions per principal, denied
// requests and errors by code. Times are RFC 3339 in UTC. Strings that
// come from clients (keys, principals, user-controlled names) are printed
// Go-quoted when they hold anything but printable characters, so that a
// crafted key can neither break the columns nor send escape sequences to
// the terminal; an empty value prints as "-".
func (s *Summary) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	s.writeText(ew)
	return ew.err
}

func (s *Summary) writeText(w *errWriter) {
	tw := newTable(w)
	fmt.Fprintln(tw, "Audit summary")
	if !s.From.IsZero() || !s.To.IsZero() {
		fmt.Fprintf(tw, "Window\t%s .. %s\n", fmtBound(s.From), fmtBound(s.To))
	}
	if s.Principal != "" {
		fmt.Fprintf(tw, "Principal\t%s\n", printable(s.Principal))
	}
	if s.Bucket != "" {
		fmt.Fprintf(tw, "Bucket\t%s\n", printable(s.Bucket))
	}
	if s.Total > 0 {
		fmt.Fprintf(tw, "Records\t%s .. %s\n", fmtTime(s.First), fmtTime(s.Last))
	}
	var errs int64
	for _, n := range s.Errors {
		errs += n
	}
	fmt.Fprintf(tw, "Requests\t%d\n", s.Total)
	fmt.Fprintf(tw, "Denied\t%d\n", s.DeniedTotal)
	fmt.Fprintf(tw, "Errors\t%d\n", errs)
	tw.Flush()

	principals := make([]string, 0, len(s.Principals))
	for p := range s.Principals {
		principals = append(principals, p)
	}
	slices.Sort(principals)

	if len(principals) > 0 {
		fmt.Fprintln(w, "\nPrincipals")
		tw = newTable(w)
		fmt.Fprintln(tw, "PRINCIPAL\tREQUESTS\tDENIED\tERRORS\tBYTES IN\tBYTES OUT")
		for _, name := range principals {
			p := s.Principals[name]
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", printable(name), p.Requests, p.Denied, p.Errors, p.BytesIn, p.BytesOut)
		}
		tw.Flush()

		fmt.Fprintln(w, "\nActions by principal")
		tw = newTable(w)
		fmt.Fprintln(tw, "PRINCIPAL\tACTION\tCOUNT")
		for _, name := range principals {
			p := s.Principals[name]
			actions := make([]string, 0, len(p.Actions))
			for a := range p.Actions {
				actions = append(actions, a)
			}
			slices.Sort(actions)
			for i, a := range actions {
				who := printable(name)
				if i > 0 {
					who = ""
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\n", who, printable(a), p.Actions[a])
			}
		}
		tw.Flush()
	}

	if s.DeniedTotal > 0 {
		if len(s.Denied) < int(s.DeniedTotal) {
			fmt.Fprintf(w, "\nDenied requests (earliest %d of %d)\n", len(s.Denied), s.DeniedTotal)
		} else {
			fmt.Fprintln(w, "\nDenied requests")
		}
		if len(s.Denied) > 0 {
			tw = newTable(w)
			fmt.Fprintln(tw, "TIME\tPRINCIPAL\tSOURCE IP\tACTION\tBUCKET\tKEY\tERROR CODE")
			for _, d := range s.Denied {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", fmtTime(d.Time), printable(d.Principal),
					printable(d.SourceIP), printable(d.Action), printable(d.Bucket), printable(d.Key), printable(d.ErrorCode))
			}
			tw.Flush()
		}
		if s.DeniedOmitted > 0 {
			fmt.Fprintf(w, "... and %d more\n", s.DeniedOmitted)
		}
	}

	if len(s.Errors) > 0 {
		codes := make([]string, 0, len(s.Errors))
		for c := range s.Errors {
			codes = append(codes, c)
		}
		slices.SortFunc(codes, func(a, b string) int {
			return cmp.Or(cmp.Compare(s.Errors[b], s.Errors[a]), cmp.Compare(a, b))
		})
		fmt.Fprintln(w, "\nErrors by code")
		tw = newTable(w)
		fmt.Fprintln(tw, "CODE\tCOUNT")
		for _, c := range codes {
			fmt.Fprintf(tw, "%s\t%d\n", printable(c), s.Errors[c])
		}
		tw.Flush()
	}
}

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func fmtBound(t time.Time) string {
	if t.IsZero() {
		return "*"
	}
	return fmtTime(t)
}

// printable returns s as is if it is non-empty, valid UTF-8 and made of
// printable characters only (no tabs, controls or format characters),
// else Go-quoted; "-" if empty.
func printable(s string) string {
	if s == "" {
		return "-"
	}
	if strings.HasPrefix(s, `"`) {
		return strconv.Quote(s)
	}
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				return strconv.Quote(s)
			}
		}
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// errWriter remembers the first write error and swallows later writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
