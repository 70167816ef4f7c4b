package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	toml := filepath.Join(dir, "firn.toml")
	os.WriteFile(toml, []byte("address = \"127.0.0.1:7000\"\nregion = \"eu-west-1\"\nday_length = \"1s\"\ndomains = [\"a.test\", \"b.test\"]\ninline-max = 10\n"), 0o600)
	tuned := filepath.Join(dir, "tuned.toml")
	os.WriteFile(tuned, []byte("free_tier_bytes = \"1MiB\"\ncompact-min-age = 90\ncompact_live_ratio = 0.25\n"), 0o600)
	tunedYAML := filepath.Join(dir, "tuned.yml")
	os.WriteFile(tunedYAML, []byte("free-tier-bytes: 5000\ncompact-min-age: 30\ncompact-live-ratio: 0.75\n"), 0o600)
	yml := filepath.Join(dir, "firn.yaml")
	os.WriteFile(yml, []byte("address: 127.0.0.1:7001\ndata: /srv/firn\n"), 0o600)

	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(Server) bool
	}{
		{"defaults", nil, nil, func(c Server) bool {
			return c.Address == "127.0.0.1:9000" && c.Data == "./firn-data" && c.Region == "us-east-1" && c.DayLength == 24*time.Hour
		}},
		{"file", []string{"--config", toml}, nil, func(c Server) bool {
			return c.Address == "127.0.0.1:7000" && c.Region == "eu-west-1" && c.DayLength == time.Second &&
				len(c.Domains) == 2 && c.Domains[1] == "b.test" && c.InlineMax == 10
		}},
		{"yaml via env", nil, map[string]string{"FIRN_CONFIG": yml}, func(c Server) bool {
			return c.Address == "127.0.0.1:7001" && c.Data == "/srv/firn"
		}},
		{"env beats file", []string{"--config", toml}, map[string]string{"FIRN_REGION": "ap-south-1"}, func(c Server) bool {
			return c.Region == "ap-south-1" && c.Address == "127.0.0.1:7000"
		}},
		{"flag beats env", []string{"--region", "us-west-2"}, map[string]string{"FIRN_REGION": "ap-south-1", "FIRN_DAY_LENGTH": "2s"}, func(c Server) bool {
			return c.Region == "us-west-2" && c.DayLength == 2*time.Second
		}},
		{"archive and retrieval defaults", nil, nil, func(c Server) bool {
			return c.FreeTierBytes == 10<<30 && c.CompactMinAge == 180 && c.CompactLiveRatio == 0.5
		}},
		{"archive and retrieval from file", []string{"--config", tuned}, nil, func(c Server) bool {
			return c.FreeTierBytes == 1<<20 && c.CompactMinAge == 90 && c.CompactLiveRatio == 0.25
		}},
		{"archive and retrieval from yaml", []string{"--config", tunedYAML}, nil, func(c Server) bool {
			return c.FreeTierBytes == 5000 && c.CompactMinAge == 30 && c.CompactLiveRatio == 0.75
		}},
		{"archive and retrieval from env", nil, map[string]string{"FIRN_FREE_TIER_BYTES": "2GiB", "FIRN_COMPACT_MIN_AGE": "0", "FIRN_COMPACT_LIVE_RATIO": "1"}, func(c Server) bool {
			return c.FreeTierBytes == 2<<30 && c.CompactMinAge == 0 && c.CompactLiveRatio == 1
		}},
		{"free tier flag, plain bytes", []string{"--free-tier-bytes", "31000"}, map[string]string{"FIRN_FREE_TIER_BYTES": "2GiB"}, func(c Server) bool {
			return c.FreeTierBytes == 31000
		}},
		{"credentials from env", nil, map[string]string{"FIRN_ACCESS_KEY": "ak", "FIRN_SECRET_KEY": "sk"}, func(c Server) bool {
			return c.AccessKey == "ak" && c.SecretKey == "sk"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := LoadServer(tt.args, envOf(tt.env))
			if err != nil {
				t.Fatalf("LoadServer: %v", err)
			}
			if !tt.want(c) {
				t.Errorf("got %+v", c)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("adress = \"x\"\n"), 0o600)
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"unknown file key", []string{"--config", bad}, nil},
		{"bad extension", []string{"--config", filepath.Join(dir, "x.ini")}, nil},
		{"bad duration env", nil, map[string]string{"FIRN_DAY_LENGTH": "soon"}},
		{"zero day", []string{"--day-length", "0s"}, nil},
		{"half credentials", nil, map[string]string{"FIRN_ACCESS_KEY": "ak"}},
		{"stray argument", []string{"extra"}, nil},
		{"unknown flag", []string{"--nope"}, nil},
		{"negative free tier", []string{"--free-tier-bytes", "-1"}, nil},
		{"decimal free tier unit", []string{"--free-tier-bytes", "10GB"}, nil},
		{"bad free tier env", nil, map[string]string{"FIRN_FREE_TIER_BYTES": "lots"}},
		{"negative min age", []string{"--compact-min-age", "-1"}, nil},
		{"min age that would overflow", []string{"--compact-min-age", "200000"}, nil},
		{"negative restore gather", []string{"--restore-gather", "-0.1"}, nil},
		{"restore gather above half", nil, map[string]string{"FIRN_RESTORE_GATHER": "0.6"}},
		{"zero live ratio", []string{"--compact-live-ratio", "0"}, nil},
		{"live ratio above 1", nil, map[string]string{"FIRN_COMPACT_LIVE_RATIO": "1.5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := LoadServer(tt.args, envOf(tt.env)); err == nil {
				t.Errorf("got nil error, want one")
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1234": 1234, "10GiB": 10 << 30, "10 gib": 10 << 30, "512KiB": 512 << 10, "3MiB": 3 << 20, "1TiB": 1 << 40,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "-5", "1.5GiB", "10GB", "10G", "9999999999TiB"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
	for n, want := range map[int64]string{10 << 30: "10GiB", 1536: "1536", 0: "0", 3 << 20: "3MiB"} {
		b := byteSize(n)
		if got := b.String(); got != want {
			t.Errorf("byteSize(%d).String() = %q, want %q", n, got, want)
		}
	}
}
