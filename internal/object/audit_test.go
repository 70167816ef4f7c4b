package object

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/audit"
	"github.com/firnhq/firn/internal/clock"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// TestAuditSystemActions: lifecycle transitions and restores, which no
// client request makes, are in the audit log under system principals.
func TestAuditSystemActions(t *testing.T) {
	var out lockedBuffer
	log := audit.New(&out)
	f := &fixture{t: t, dir: t.TempDir(), clock: clock.NewFake(time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC))}
	f.tune = func(c *Config) { c.Audit = log }
	f.open()
	t.Cleanup(func() { f.meta.Close() })
	if err := f.svc.CreateBucket(context.Background(), "data", "", "owner"); err != nil {
		t.Fatal(err)
	}
	f.putLifecycle("data", `<LifecycleConfiguration><Rule><ID>cold</ID><Status>Enabled</Status><Filter></Filter>
		<Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition></Rule></LifecycleConfiguration>`)
	f.put("data", "k", Standard, []byte(strings.Repeat("x", 200<<10)))
	f.clock.Advance(3 * 24 * time.Hour)
	f.runLifecycle()
	if _, err := f.restore("k", 1, TierExpedited); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(6 * time.Hour)
	f.run()
	log.Close()
	got := out.b.String()
	for _, want := range []string{`"principal":"system:lifecycle","action":"s3:LifecycleTransition","bucket":"data","key":"k"`,
		`"rule":"cold"`, `"storage_class":"GLACIER"`, `"principal":"system:restore","action":"s3:ObjectRestore:Completed"`, `"tier":"Expedited"`} {
		if !strings.Contains(got, want) {
			t.Errorf("audit records lack %s:\n%s", want, got)
		}
	}
}
