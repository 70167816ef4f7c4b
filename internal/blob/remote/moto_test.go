package remote_test

import (
	"bufio"
	"context"
	"errors"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/blob"
	"github.com/firnhq/firn/internal/blob/blobtest"
	"github.com/firnhq/firn/internal/blob/remote"
)

// startMoto starts moto's S3 server (python3 -m moto.server), a second
// S3 implementation that is not firn, or skips t when it is not
// installed.
func startMoto(t *testing.T) *server {
	t.Helper()
	if testing.Short() {
		t.Skip("moto: skipped in -short mode")
	}
	if err := exec.Command("python3", "-c", "import moto.server").Run(); err != nil {
		t.Skip("moto is not installed (pip install 'moto[server]'); skipping the tests against it")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", "0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start moto: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	// moto logs "Running on http://127.0.0.1:PORT" when it listens.
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`Running on (http://127\.0\.0\.1:\d+)`)
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() { // keep draining, so that moto never blocks on its log
			if m := re.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		if !sent {
			close(found)
		}
	}()
	select {
	case endpoint, ok := <-found:
		if !ok {
			t.Fatal("moto exited without listening")
		}
		return newServer(endpoint, "moto-access-key", "moto-secret-key")
	case <-time.After(30 * time.Second):
		t.Fatal("moto did not start listening within 30s")
	}
	return nil
}

func TestMoto(t *testing.T) {
	sv := startMoto(t)
	t.Run("Conformance", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) blob.Store {
			s, _ := sv.open(t, nil)
			return s
		})
	})
	t.Run("ConformanceMultipart", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) blob.Store {
			s, _ := sv.open(t, func(c *remote.Config) { c.PartSize = remote.MinPartSize })
			return s
		})
	})
	t.Run("ArchiveClass", func(t *testing.T) {
		s, _ := sv.open(t, func(c *remote.Config) { c.StorageClass = "DEEP_ARCHIVE" })
		w, err := s.Create(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("cold"))
		if err := w.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
		_, err = s.Open(t.Context(), w.ID(), 0, -1)
		var nr *remote.NeedsRestoreError
		if !errors.As(err, &nr) {
			t.Fatalf("Open of a DEEP_ARCHIVE blob: got %v, want a *NeedsRestoreError", err)
		}
		if nr.StorageClass != "DEEP_ARCHIVE" {
			t.Errorf("NeedsRestoreError.StorageClass: got %q, want DEEP_ARCHIVE", nr.StorageClass)
		}
		if !errors.Is(err, blob.ErrNeedsRestore) {
			t.Errorf("NeedsRestoreError does not match blob.ErrNeedsRestore")
		}
		// Expedited is not offered for DEEP_ARCHIVE: the store asks for
		// Standard, and asking twice is fine.
		for range 2 {
			if err := s.Restore(t.Context(), w.ID(), 1, "Expedited"); err != nil {
				t.Fatalf("Restore: %v", err)
			}
		}
		got, err := read(t.Context(), s, w.ID(), 0, -1)
		if err != nil || string(got) != "cold" {
			t.Errorf("Open after the remote restore: %q, %v", got, err)
		}
		if err := s.Restore(t.Context(), blob.NewID(), 1, "Standard"); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Restore of a missing blob: got %v, want ErrNotFound", err)
		}
	})
	t.Run("AbortMidUpload", func(t *testing.T) {
		s, bucket := sv.open(t, func(c *remote.Config) { c.PartSize = remote.MinPartSize })
		w, err := s.Create(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(randBytes(12<<20, 8)); err != nil {
			t.Fatal(err)
		}
		if got := sv.uploads(t, bucket); len(got) != 1 {
			t.Fatalf("uploads mid-write: got %q, want one", got)
		}
		if err := w.Abort(); err != nil {
			t.Fatalf("Abort: %v", err)
		}
		if got := sv.uploads(t, bucket); len(got) != 0 {
			t.Errorf("uploads after Abort: got %q, want none", got)
		}
		if got := sv.objects(t, bucket); len(got) != 0 {
			t.Errorf("objects after Abort: got %q, want none", got)
		}
	})
}
