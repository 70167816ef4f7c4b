package retrieval

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/admit/*.txt")

// The files under testdata/admit are data-driven admission scenarios, in
// the manner of pebble's datadriven tests. A case is a command line,
// optional input lines, a "----" line and the expected output, ended by a
// blank line; lines starting with '#' between cases are comments. State
// (config, policy, accepted jobs) carries over from case to case within a
// file. Times are Go durations from the base instant 2026-03-01T00:00Z.
// Run with -rewrite to regenerate the expected outputs, then review the
// diff.
//
// Commands:
//
//	config [day=DUR] [free=BYTES]    set Config; prints it
//	policy None|FreeTier|BytesPerHour [N]
//	jobs                             replace the accepted jobs with the input
//	                                 lines, each "TIER BYTES start=T [dur=D]"
//	admit now=T TIER BYTES [start=T] [dur=D]
//	                                 judge a job; an accepted one joins the
//	                                 accepted jobs
//	allowance now=T                  model day of T and its FreeTier allowance
//	peak from=T to=T                 peak rate of the accepted jobs over [from, to)
//	rate BYTES [dur=D]               rate of a Standard job
var base = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

type ddCase struct {
	line  int // of the command
	cmd   string
	input []string
	want  string
}

func parseDD(t *testing.T, data string) (cases []ddCase, comments map[int][]string) {
	t.Helper()
	comments = map[int][]string{}
	sc := bufio.NewScanner(strings.NewReader(data))
	n := 0
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		n++
		return sc.Text(), true
	}
	for {
		l, ok := next()
		if !ok {
			return cases, comments
		}
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			comments[len(cases)] = append(comments[len(cases)], l)
			continue
		}
		c := ddCase{line: n, cmd: l}
		for {
			l, ok = next()
			if !ok {
				t.Fatalf("line %d: case without ----", c.line)
			}
			if l == "----" {
				break
			}
			c.input = append(c.input, l)
		}
		var out []string
		for {
			l, ok = next()
			if !ok || l == "" {
				break
			}
			out = append(out, l)
		}
		c.want = strings.Join(out, "\n")
		cases = append(cases, c)
	}
}

type ddState struct {
	cfg      Config
	policy   Policy
	accepted []Job
}

func ddTime(s string) (time.Time, error) {
	d, err := time.ParseDuration(s)
	return base.Add(d), err
}

// ddArgs splits "k=v" arguments from positional ones.
func ddArgs(fields []string) (pos []string, kv map[string]string) {
	kv = map[string]string{}
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			kv[k] = v
		} else {
			pos = append(pos, f)
		}
	}
	return pos, kv
}

func ddJob(fields []string) (Job, error) {
	pos, kv := ddArgs(fields)
	if len(pos) != 2 {
		return Job{}, fmt.Errorf("want TIER BYTES, got %q", pos)
	}
	var (
		j   = Job{Tier: pos[0]}
		err error
	)
	if j.Bytes, err = strconv.ParseInt(pos[1], 10, 64); err != nil {
		return j, err
	}
	if s, ok := kv["start"]; ok {
		if j.Start, err = ddTime(s); err != nil {
			return j, err
		}
	}
	if s, ok := kv["dur"]; ok {
		if j.Duration, err = time.ParseDuration(s); err != nil {
			return j, err
		}
	}
	return j, nil
}

func (st *ddState) run(c ddCase) (string, error) {
	fields := strings.Fields(c.cmd)
	args := fields[1:]
	switch fields[0] {
	case "config":
		_, kv := ddArgs(args)
		st.cfg = Config{}
		if s, ok := kv["day"]; ok {
			d, err := time.ParseDuration(s)
			if err != nil {
				return "", err
			}
			st.cfg.DayLength = d
		}
		if s, ok := kv["free"]; ok {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return "", err
			}
			st.cfg.FreeTierMonthlyBytes = n
		}
		return fmt.Sprintf("day=%s free=%d standard=%s", dayLengthOr(st.cfg.DayLength), st.cfg.FreeTierMonthlyBytes, st.cfg.StandardDuration()), nil
	case "policy":
		if len(args) == 0 {
			return "", errors.New("policy needs a strategy")
		}
		s, ok := ParseStrategy(args[0])
		if !ok {
			return "", fmt.Errorf("unknown strategy %q", args[0])
		}
		p := Policy{Strategy: s}
		if len(args) > 1 {
			n, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil {
				return "", err
			}
			p.BytesPerHour = n
		}
		if err := p.Validate(); err != nil {
			return "", err
		}
		st.policy = p
		return p.String(), nil
	case "jobs":
		st.accepted = nil
		for _, l := range c.input {
			j, err := ddJob(strings.Fields(l))
			if err != nil {
				return "", err
			}
			st.accepted = append(st.accepted, j)
		}
		return fmt.Sprintf("%d jobs", len(st.accepted)), nil
	case "admit":
		var rest []string
		var now time.Time
		for _, a := range args {
			if v, ok := strings.CutPrefix(a, "now="); ok {
				var err error
				if now, err = ddTime(v); err != nil {
					return "", err
				}
				continue
			}
			rest = append(rest, a)
		}
		j, err := ddJob(rest)
		if err != nil {
			return "", err
		}
		err = st.policy.Admit(now, j, st.accepted, st.cfg)
		var ee *EnforcedError
		switch {
		case err == nil:
			if j.Start.IsZero() {
				j.Start = now
			}
			st.accepted = append(st.accepted, j)
			return "accepted", nil
		case errors.As(err, &ee):
			return fmt.Sprintf("refused: limit=%d would=%d\n%s", ee.Limit, ee.Would, ee.Detail), nil
		default:
			return "error: " + err.Error(), nil
		}
	case "allowance":
		_, kv := ddArgs(args)
		now, err := ddTime(kv["now"])
		if err != nil {
			return "", err
		}
		day := Day(now, st.cfg.DayLength)
		return fmt.Sprintf("day=%d starts=%s month-days=%d allowance=%d",
			day, DayStart(day, st.cfg.DayLength).Format(time.RFC3339Nano), DaysInMonth(day), st.cfg.DailyFreeAllowance(day)), nil
	case "peak":
		_, kv := ddArgs(args)
		from, err := ddTime(kv["from"])
		if err != nil {
			return "", err
		}
		to, err := ddTime(kv["to"])
		if err != nil {
			return "", err
		}
		return peakRate(st.accepted, from, to, st.cfg).String(), nil
	case "rate":
		j, err := ddJob(append([]string{TierStandard}, args...))
		if err != nil {
			return "", err
		}
		return strconv.FormatInt(st.cfg.Rate(j), 10), nil
	}
	return "", fmt.Errorf("unknown command %q", fields[0])
}

func TestAdmitDataDriven(t *testing.T) {
	files, err := filepath.Glob("testdata/admit/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cases, comments := parseDD(t, string(data))
			st := &ddState{}
			var out bytes.Buffer
			for i, c := range cases {
				for _, l := range comments[i] {
					out.WriteString(l + "\n")
				}
				got, err := st.run(c)
				if err != nil {
					t.Fatalf("%s:%d: %s: %v", file, c.line, c.cmd, err)
				}
				if !*rewrite && got != c.want {
					t.Errorf("%s:%d: %s\ngot:\n%s\nwant:\n%s", file, c.line, c.cmd, got, c.want)
				}
				out.WriteString(c.cmd + "\n")
				for _, l := range c.input {
					out.WriteString(l + "\n")
				}
				out.WriteString("----\n" + got + "\n\n")
			}
			for _, l := range comments[len(cases)] {
				out.WriteString(l + "\n")
			}
			if *rewrite {
				if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
