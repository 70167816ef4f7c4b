package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firnhq/firn/internal/app"
	"github.com/firnhq/firn/internal/object"
	"github.com/firnhq/firn/internal/sse"
)

// TestAdminKeyRotate: objects written under master key k1 are rewrapped
// under k2 by `firn admin key rotate` without touching their data, after
// which a keyring holding only k2 reads them all.
func TestAdminKeyRotate(t *testing.T) {
	ctx := context.Background()
	data, keys := t.TempDir(), t.TempDir()
	line1, line2 := sse.GenerateKeyLine("k1"), sse.GenerateKeyLine("k2")
	write := func(name string, lines ...string) string {
		p := filepath.Join(keys, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oldFile, bothFile, newFile := write("old", line1), write("both", line1, line2), write("new", line2)
	open := func(file string) (*object.Service, io.Closer) {
		t.Helper()
		k, err := app.MasterKeys(data, file, "")
		if err != nil {
			t.Fatal(err)
		}
		svc, closer, err := app.OpenAdminWithKeys(data, k)
		if err != nil {
			t.Fatal(err)
		}
		return svc, closer
	}
	// An admin command opens an existing data directory: make one.
	if err := os.MkdirAll(filepath.Join(data, "meta"), 0o700); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Create(filepath.Join(data, "meta", "firn.db")); err == nil {
		f.Close()
	}
	svc, closer := open(oldFile)
	if err := svc.CreateBucket(ctx, "vault", "", "AK"); err != nil {
		t.Fatal(err)
	}
	bodies := map[string]string{"a": "first secret", "b": strings.Repeat("second secret ", 100)}
	for k, v := range bodies {
		if _, err := svc.PutObject(ctx, object.PutInput{Bucket: "vault", Key: k, Owner: "AK", Body: strings.NewReader(v), Size: int64(len(v))}); err != nil {
			t.Fatal(err)
		}
	}
	closer.Close()

	if code, _, errs := runCLI(t, "admin", "key", "rotate", "--data", data); code != ExitUsage {
		t.Errorf("rotate without keys: exit %d (%s), want %d", code, errs, ExitUsage)
	}
	if code, _, errs := runCLI(t, "admin", "key", "rotate", "--data", data, "--master-key-file", filepath.Join(data, "meta", "firn.db")); code != ExitFailure {
		t.Errorf("key file inside the data directory: exit %d (%s), want %d", code, errs, ExitFailure)
	}
	code, out, errs := runCLI(t, "admin", "key", "rotate", "--data", data, "--master-key-file", bothFile, "--json")
	var res struct {
		CurrentKey         string `json:"current_key"`
		Checked, Rewrapped int
	}
	if err := json.Unmarshal([]byte(out), &res); code != ExitOK || err != nil || res.CurrentKey != "k2" || res.Checked != 2 || res.Rewrapped != 2 {
		t.Fatalf("rotate: exit %d, %q (%v), stderr %q", code, out, err, errs)
	}
	if code, out, _ := runCLI(t, "admin", "key", "rotate", "--data", data, "--master-key-file", bothFile); code != ExitOK || !strings.Contains(out, "2 SSE-S3 object versions checked, 0 rewrapped") {
		t.Errorf("second rotate: exit %d, %q", code, out)
	}
	svc, closer = open(newFile)
	defer closer.Close()
	for k, v := range bodies {
		_, rd, err := svc.GetObject(ctx, object.GetInput{Bucket: "vault", Key: k})
		if err != nil {
			t.Fatalf("read %s under k2 only: %v", k, err)
		}
		got, _ := io.ReadAll(rd)
		rd.Close()
		if !bytes.Equal(got, []byte(v)) {
			t.Errorf("%s after rotation: %q", k, got)
		}
	}
	if code, out, _ := runCLI(t, "admin", "key", "generate", "--id", "k9"); code != ExitOK || !strings.HasPrefix(out, "k9:") {
		t.Errorf("key generate: exit %d, %q", code, out)
	}
}
