package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The backup benchmarks compare `firn backup` with restic (Debian's
// package) on one data set, in the same run, against this run's firn
// server as S3 endpoint: backup throughput, a second run with nothing
// changed, repository size after five backups of an evolving tree,
// restore throughput, and the client's peak memory (peak-RSS-MiB here
// is the backup client's, not the server's).

const benchPassword = "bench backup password"

var (
	dataOnce sync.Once
	dataDir  string
	dataSize int64
	dataErr  error
	repoSeq  int
)

// dataset builds the tree once: 48 files of 8 MiB random data, 16 of them
// copies of others (dedup across files), and 2,000 small files of 1-16
// KiB in 40 directories (per-file overhead): about 416 MiB in all.
func dataset(b *testing.B) (string, int64) {
	dataOnce.Do(func() {
		dataDir, dataErr = os.MkdirTemp("", "firn-bench-data-")
		if dataErr != nil {
			return
		}
		rng := rand.New(rand.NewChaCha8([32]byte{7}))
		// Written as streams, so the benchmark process stays small: a
		// client's peak RSS (from wait4) is at least the RSS its parent
		// had when it started.
		file := func(p string, r io.Reader) {
			if dataErr != nil {
				return
			}
			os.MkdirAll(filepath.Dir(p), 0o755)
			f, err := os.Create(p)
			if err != nil {
				dataErr = err
				return
			}
			n, err := io.Copy(f, r)
			dataSize += n
			dataErr = errors.Join(err, f.Close())
		}
		for i := range 48 {
			file(filepath.Join(dataDir, "big", fmt.Sprintf("f%02d.bin", i)), io.LimitReader(rand.NewChaCha8([32]byte{byte(i % 32), 1}), 8<<20))
		}
		for i := range 2000 {
			n := int64(1<<10 + rng.IntN(15<<10))
			file(filepath.Join(dataDir, "small", fmt.Sprintf("d%02d", i%40), fmt.Sprintf("s%04d.txt", i)),
				io.LimitReader(rand.NewChaCha8([32]byte{byte(i), byte(i >> 8), 2}), n))
		}
	})
	if dataErr != nil {
		b.Fatal(dataErr)
	}
	return dataDir, dataSize
}

// tool runs one backup client.
type tool struct {
	name string
	env  []string
	args func(op string, extra ...string) []string
	bin  string
}

// newTool returns firn's or restic's client for a fresh repository in
// bucket "backups" under a new prefix, initialised.
func newTool(b *testing.B, name string) *tool {
	ensureBucket(b, "backups")
	repoSeq++
	prefix := fmt.Sprintf("%s-%d-%d", name, os.Getpid(), repoSeq)
	cache := b.TempDir()
	t := &tool{name: name}
	base := append(os.Environ(), "AWS_ACCESS_KEY_ID="+accessKey, "AWS_SECRET_ACCESS_KEY="+secretKey, "AWS_REGION=us-east-1")
	switch name {
	case "firn":
		t.bin = firnBin
		t.env = append(base, "FIRN_BACKUP_PASSWORD="+benchPassword, "FIRN_BACKUP_ENDPOINT_URL="+endpoint)
		repo := "s3://backups/" + prefix
		t.args = func(op string, extra ...string) []string {
			a := []string{"backup", op, "--repo", repo, "--cache-dir", cache, "--quiet"}
			if op == "init" {
				a = append(a, "--scrypt-n", "16384")
			}
			return append(a, extra...)
		}
	case "restic":
		bin, err := exec.LookPath("restic")
		if err != nil {
			b.Skip("restic not installed")
		}
		t.bin = bin
		t.env = append(base, "RESTIC_PASSWORD="+benchPassword, "RESTIC_REPOSITORY=s3:"+endpoint+"/backups/"+prefix, "RESTIC_CACHE_DIR="+cache)
		t.args = func(op string, extra ...string) []string {
			a := []string{op, "--quiet"}
			return append(a, extra...)
		}
	}
	t.run(b, "init")
	return t
}

// run runs op and returns its duration and the client's peak RSS (MiB).
func (t *tool) run(b *testing.B, op string, extra ...string) (time.Duration, float64) {
	cmd := exec.Command(t.bin, t.args(op, extra...)...)
	cmd.Env = t.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		b.Fatalf("%s %s: %v\n%s", t.name, op, err, out.String())
	}
	var rss float64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = float64(ru.Maxrss) / 1024
	}
	return d, rss
}

func (t *tool) backup(b *testing.B, dir string) (time.Duration, float64) {
	if t.name == "firn" {
		return t.run(b, "run", dir)
	}
	return t.run(b, "backup", dir)
}

func (t *tool) restore(b *testing.B, target string) (time.Duration, float64) {
	if t.name == "firn" {
		return t.run(b, "restore", "latest", "--target", target)
	}
	return t.run(b, "restore", "latest", "--target", target)
}

// benchBackup: b.N fresh repositories, one backup of the data set each.
func benchBackup(b *testing.B, name string) {
	dir, size := dataset(b)
	var total time.Duration
	var peak float64
	for range b.N {
		b.StopTimer()
		t := newTool(b, name)
		b.StartTimer()
		d, rss := t.backup(b, dir)
		total += d
		peak = max(peak, rss)
	}
	b.ReportMetric(float64(size)*float64(b.N)/total.Seconds()/1e6, "MB/s")
	b.ReportMetric(peak, "peak-RSS-MiB")
}

// benchSecondRun: the time of a backup with nothing changed since the
// previous one.
func benchSecondRun(b *testing.B, name string) {
	dir, _ := dataset(b)
	b.StopTimer()
	t := newTool(b, name)
	t.backup(b, dir)
	b.StartTimer()
	var total time.Duration
	for range b.N {
		d, _ := t.backup(b, dir)
		total += d
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/run")
}

// benchRestore: restoring the latest snapshot of the data set.
func benchRestore(b *testing.B, name string) {
	dir, size := dataset(b)
	b.StopTimer()
	t := newTool(b, name)
	t.backup(b, dir)
	var total time.Duration
	var peak float64
	for range b.N {
		target := b.TempDir()
		b.StartTimer()
		d, rss := t.restore(b, target)
		b.StopTimer()
		total += d
		peak = max(peak, rss)
		os.RemoveAll(target)
	}
	b.ReportMetric(float64(size)*float64(b.N)/total.Seconds()/1e6, "MB/s")
	b.ReportMetric(peak, "peak-RSS-MiB")
}

// benchEvolving: the repository's size in the bucket after five backups
// of a tree that changes between them (a tenth of the big files grow,
// small files are rewritten, added and removed).
func benchEvolving(b *testing.B, name string) {
	src, _ := dataset(b)
	var size int64
	for range b.N {
		dir := b.TempDir()
		if out, err := exec.Command("cp", "-a", src+"/.", dir).CombinedOutput(); err != nil {
			b.Fatalf("cp: %v %s", err, out)
		}
		t := newTool(b, name)
		cha := rand.NewChaCha8([32]byte{9})
		for round := range 5 {
			if round > 0 {
				evolve(b, dir, cha, round)
			}
			t.backup(b, dir)
		}
		size = bucketSize(b, "backups", t.prefix())
	}
	b.ReportMetric(float64(size)/(1<<20), "repo-MiB")
}

func (t *tool) prefix() string {
	for _, e := range t.env {
		if v, ok := strings.CutPrefix(e, "RESTIC_REPOSITORY=s3:"+endpoint+"/backups/"); ok {
			return v + "/"
		}
	}
	a := t.args("x")
	for i, v := range a {
		if v == "--repo" {
			return strings.TrimPrefix(a[i+1], "s3://backups/") + "/"
		}
	}
	return ""
}

// evolve changes the tree as a day of work would.
func evolve(b *testing.B, dir string, cha *rand.ChaCha8, round int) {
	rng := rand.New(cha)
	for i := range 48 {
		if rng.IntN(10) == 0 {
			f, err := os.OpenFile(filepath.Join(dir, "big", fmt.Sprintf("f%02d.bin", i)), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				b.Fatal(err)
			}
			io.CopyN(f, cha, 1<<20)
			f.Close()
		}
	}
	for i := range 2000 {
		p := filepath.Join(dir, "small", fmt.Sprintf("d%02d", i%40), fmt.Sprintf("s%04d.txt", i))
		switch rng.IntN(20) {
		case 0:
			os.Remove(p)
		case 1:
			data := make([]byte, 1<<10+rng.IntN(15<<10))
			cha.Read(data)
			os.WriteFile(p, data, 0o644)
		}
	}
	for i := range 100 {
		data := make([]byte, 1<<10+rng.IntN(15<<10))
		cha.Read(data)
		os.WriteFile(filepath.Join(dir, "small", fmt.Sprintf("new-%d-%03d.txt", round, i)), data, 0o644)
	}
}

// bucketSize sums the sizes of the objects under prefix.
func bucketSize(b *testing.B, bucket, prefix string) int64 {
	c := client()
	var total int64
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range page.Contents {
			total += aws.ToInt64(o.Size)
		}
	}
	return total
}

func BenchmarkBackupFirn(b *testing.B)            { benchBackup(b, "firn") }
func BenchmarkBackupRestic(b *testing.B)          { benchBackup(b, "restic") }
func BenchmarkBackupSecondRunFirn(b *testing.B)   { benchSecondRun(b, "firn") }
func BenchmarkBackupSecondRunRestic(b *testing.B) { benchSecondRun(b, "restic") }
func BenchmarkBackupRestoreFirn(b *testing.B)     { benchRestore(b, "firn") }
func BenchmarkBackupRestoreRestic(b *testing.B)   { benchRestore(b, "restic") }
func BenchmarkBackupEvolvingFirn(b *testing.B)    { benchEvolving(b, "firn") }
func BenchmarkBackupEvolvingRestic(b *testing.B)  { benchEvolving(b, "restic") }
