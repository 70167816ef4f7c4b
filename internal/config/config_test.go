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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := LoadServer(tt.args, envOf(tt.env)); err == nil {
				t.Errorf("got nil error, want one")
			}
		})
	}
}
