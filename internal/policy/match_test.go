package policy

import (
	"testing"
	"time"
)

func TestMatchTokens(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything/at/all", true},
		{"a*", "a", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "abbc", false},
		{"*a*b*c*", "xxaxxbxxcxx", true},
		{"*a*b*c*", "xxcxxbxxa", false},
		{"**", "ab", true},
		{"?*", "", false},
		{"héllo?", "héllo✓", true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/", true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b", false},
	}
	for _, tt := range tests {
		p := compile(tt.pattern, false, true)
		if got := matchTokens(p.static, []rune(tt.s)); got != tt.want {
			t.Errorf("match(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestCanMatchPrefix(t *testing.T) {
	tests := []struct {
		pattern, prefix string
		want            bool
	}{
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/", true},
		{"arn:aws:s3:::b", "arn:aws:s3:::b/", false},
		{"arn:aws:s3:::*", "arn:aws:s3:::b/", true},
		{"arn:aws:s3:::?", "arn:aws:s3:::b/", false},
		{"arn:aws:s3:::??*", "arn:aws:s3:::b/", true},
		{"arn:*:s3:::b/x", "arn:aws:s3:::b/", true},
		{"arn:aws:s3:::c/*", "arn:aws:s3:::b/", false},
		{"*", "", true},
	}
	for _, tt := range tests {
		p := compile(tt.pattern, false, true)
		if got := canMatchPrefix(p.static, tt.prefix); got != tt.want {
			t.Errorf("canMatchPrefix(%q, %q) = %v, want %v", tt.pattern, tt.prefix, got, tt.want)
		}
	}
}

func TestVariables(t *testing.T) {
	req := newEvalRequest(Request{Context: map[string][]string{
		"aws:username":          {"alice"},
		"aws:PrincipalTag/team": {"ops"},
		"aws:TagKeys":           {"a", "b"},
	}})
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"home/${aws:username}/", "home/alice/", true},
		{"${AWS:UserName}", "alice", true},
		{"${ aws:username }", "alice", true},
		{"${aws:PrincipalTag/team}-${aws:username}", "ops-alice", true},
		{"${aws:userid}", "", false},
		{"${aws:TagKeys}", "", false},
		{"${aws:userid, 'nobody'}", "nobody", true},
		{"${aws:userid,'it''s'}", "it's", true},
		{"${aws:username, 'unused'}", "alice", true},
		{"${*}${?}${$}", "*?$", true},
		{"${", "${", true},
		{"${}", "${}", true},
		{"${aws:username", "${aws:username", true},
		{"${aws:userid, 'open}", "${aws:userid, 'open}", true},
		{"${aws:userid, nodefault}", "${aws:userid, nodefault}", true},
		{"$$", "$$", true},
	}
	for _, tt := range tests {
		p := compile(tt.in, true, false)
		got, ok := p.expand(req)
		if ok != tt.ok || got != tt.want {
			t.Errorf("expand(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	// Without variables, "${...}" is plain text.
	if p := compile("${aws:username}", false, false); string(p.static) != "${aws:username}" {
		t.Errorf("2008 compile: got %q", string(p.static))
	}
}

func TestParseDate(t *testing.T) {
	want := time.Date(2025, 3, 1, 12, 30, 0, 0, time.UTC)
	for _, s := range []string{
		"2025-03-01T12:30:00Z",
		"2025-03-01T12:30:00.000Z",
		"2025-03-01T13:30:00+01:00",
		"2025-03-01T13:30:00+0100",
		"2025-03-01T12:30Z",
		"2025-03-01T12:30:00",
		"20250301T123000Z",
		"1740832200",
	} {
		got, ok := parseDate(s)
		if !ok || !got.Equal(want) {
			t.Errorf("parseDate(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "yesterday", "2025-13-01", "1e9", "99999999999999999999"} {
		if _, ok := parseDate(s); ok {
			t.Errorf("parseDate(%q) accepted", s)
		}
	}
}

func TestParseNumber(t *testing.T) {
	good := map[string]float64{"0": 0, "-1": -1, "+2": 2, "3.5": 3.5, ".5": 0.5, "5.": 5, "1e3": 1000, "2E-1": 0.2}
	for s, want := range good {
		if got, ok := parseNumber(s); !ok || got != want {
			t.Errorf("parseNumber(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "-", ".", "0x10", "NaN", "Inf", "1e", "1 ", " 1", "1,000"} {
		if _, ok := parseNumber(s); ok {
			t.Errorf("parseNumber(%q) accepted", s)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	good := map[string]string{
		"192.0.2.7":            "192.0.2.7/32",
		"192.0.2.7/24":         "192.0.2.0/24",
		"2001:db8::1":          "2001:db8::1/128",
		"2001:db8::/32":        "2001:db8::/32",
		"::ffff:192.0.2.0/120": "192.0.2.0/24",
		"0.0.0.0/0":            "0.0.0.0/0",
	}
	for s, want := range good {
		p, ok := parsePrefix(s)
		if !ok || p.String() != want {
			t.Errorf("parsePrefix(%q) = %v, %v; want %s", s, p, ok, want)
		}
	}
	for _, s := range []string{"", "300.0.0.1", "192.0.2.0/33", "fe80::1%eth0", "host", "::ffff:1.2.3.4/90"} {
		if _, ok := parsePrefix(s); ok {
			t.Errorf("parsePrefix(%q) accepted", s)
		}
	}
}

func TestRoleSessionOf(t *testing.T) {
	tests := []struct {
		role, caller string
		want         bool
	}{
		{"arn:aws:iam::111122223333:role/backup", "arn:aws:sts::111122223333:assumed-role/backup/s1", true},
		{"arn:aws:iam::111122223333:role/path/to/backup", "arn:aws:sts::111122223333:assumed-role/backup/s1", true},
		{"arn:aws:iam::111122223333:role/backup", "arn:aws:sts::444455556666:assumed-role/backup/s1", false},
		{"arn:aws:iam::111122223333:role/backup", "arn:aws:sts::111122223333:assumed-role/backup2/s1", false},
		{"arn:aws:iam::111122223333:user/backup", "arn:aws:sts::111122223333:assumed-role/backup/s1", false},
		{"arn:aws:iam::111122223333:role/backup", "arn:aws:iam::111122223333:role/backup", false},
	}
	for _, tt := range tests {
		if got := roleSessionOf(tt.role, tt.caller); got != tt.want {
			t.Errorf("roleSessionOf(%q, %q) = %v, want %v", tt.role, tt.caller, got, tt.want)
		}
	}
}
