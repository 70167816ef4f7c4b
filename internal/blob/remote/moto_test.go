package remote_test

import (
	"errors"
	"testing"

	"github.com/firnhq/firn/internal/blob"
	"github.com/firnhq/firn/internal/blob/blobtest"
	"github.com/firnhq/firn/internal/blob/remote"
	"github.com/firnhq/firn/internal/testenv"
)

// startMoto starts moto's S3 server, or skips t (testenv.Moto).
func startMoto(t *testing.T) *server {
	t.Helper()
	return newServer(testenv.Moto(t), "moto-access-key", "moto-secret-key")
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
