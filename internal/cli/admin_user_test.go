package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAdminUsersAndKeys drives `firn admin user` and `firn admin key`
// on a data directory.
func TestAdminUsersAndKeys(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "meta"), 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "meta", "firn.db"), nil, 0o600)
	if code, out, errs := runCLI(t, "admin", "user", "add", "backup", "--data", dir); code != ExitOK || !strings.Contains(out, "backup added") {
		t.Fatalf("user add: %d %q %q", code, out, errs)
	}
	if code, _, _ := runCLI(t, "admin", "user", "add", "backup", "--data", dir); code != ExitFailure {
		t.Errorf("user add twice: exit %d", code)
	}
	if code, _, _ := runCLI(t, "admin", "user", "add", "bad name", "--data", dir); code != ExitUsage {
		t.Errorf("invalid name: exit %d", code)
	}
	pol := filepath.Join(t.TempDir(), "p.json")
	os.WriteFile(pol, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`), 0o600)
	if code, _, errs := runCLI(t, "admin", "user", "policy", "backup", "--file", pol, "--data", dir); code != ExitOK {
		t.Fatalf("user policy: %d %q", code, errs)
	}
	if code, out, _ := runCLI(t, "admin", "user", "policy", "backup", "--data", dir); code != ExitOK || !strings.Contains(out, "s3:GetObject") {
		t.Errorf("show policy: %d %q", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"Statement":[{"Effect":"Maybe"}]}`), 0o600)
	if code, _, errs := runCLI(t, "admin", "user", "policy", "backup", "--file", bad, "--data", dir); code != ExitUsage || errs == "" {
		t.Errorf("malformed policy: %d %q", code, errs)
	}
	code, out, errs := runCLI(t, "admin", "key", "create", "backup", "--json", "--data", dir)
	var k struct {
		ID     string `json:"access_key_id"`
		Secret string `json:"secret_access_key"`
	}
	if err := json.Unmarshal([]byte(out), &k); code != ExitOK || err != nil || k.ID == "" || len(k.Secret) != 40 {
		t.Fatalf("key create: %d %q %q", code, out, errs)
	}
	if code, out, _ := runCLI(t, "admin", "key", "list", "--data", dir); code != ExitOK || !strings.Contains(out, k.ID) || strings.Contains(out, k.Secret) {
		t.Errorf("key list: %d %q (secrets must not show)", code, out)
	}
	if code, out, _ := runCLI(t, "admin", "user", "list", "--json", "--data", dir); code != ExitOK || !strings.Contains(out, `"has_policy": true`) {
		t.Errorf("user list: %d %q", code, out)
	}
	if code, _, _ := runCLI(t, "admin", "key", "revoke", k.ID, "--data", dir); code != ExitOK {
		t.Errorf("key revoke: %d", code)
	}
	if code, _, _ := runCLI(t, "admin", "key", "revoke", k.ID, "--data", dir); code != ExitFailure {
		t.Errorf("key revoke twice: %d", code)
	}
	if code, _, _ := runCLI(t, "admin", "user", "remove", "backup", "--data", dir); code != ExitOK {
		t.Errorf("user remove: %d", code)
	}
	if code, _, _ := runCLI(t, "admin", "user", "add", "--data", dir); code != ExitUsage {
		t.Errorf("user add without a name: %d", code)
	}
}
