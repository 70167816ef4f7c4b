package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/firnhq/firn/internal/lifecycle"
)

// TestLifecycleCommands runs preview and simulate --bucket against an
// in-process firn holding a lifecycle configuration put with the SDK.
func TestLifecycleCommands(t *testing.T) {
	ep := startFirnForBackup(t)
	ep.setup(t, "lcb")
	c := s3.New(s3.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(ep.ak, ep.sk, ""),
		BaseEndpoint: aws.String(ep.url), UsePathStyle: true})
	ctx := t.Context()
	_, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket: aws.String("lcb"),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{
			{ID: aws.String("backups"), Status: types.ExpirationStatusEnabled,
				Filter: &types.LifecycleRuleFilter{Prefix: aws.String("backups/")},
				Transitions: []types.Transition{
					{Days: aws.Int32(30), StorageClass: types.TransitionStorageClassStandardIa},
					{Days: aws.Int32(90), StorageClass: types.TransitionStorageClassGlacier}}},
			{ID: aws.String("trash"), Status: types.ExpirationStatusEnabled,
				Filter:      &types.LifecycleRuleFilter{Tag: &types.Tag{Key: aws.String("trash"), Value: aws.String("yes")}},
				Transitions: []types.Transition{{Days: aws.Int32(0), StorageClass: types.TransitionStorageClassGlacier}}},
		}},
	})
	if err != nil {
		t.Fatalf("PutBucketLifecycleConfiguration: %v", err)
	}
	put := func(key string, size int, tagging string) time.Time {
		in := &s3.PutObjectInput{Bucket: aws.String("lcb"), Key: aws.String(key), Body: strings.NewReader(strings.Repeat("x", size))}
		if tagging != "" {
			in.Tagging = aws.String(tagging)
		}
		if _, err := c.PutObject(ctx, in); err != nil {
			t.Fatalf("PutObject %s: %v", key, err)
		}
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lcb"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToTime(h.LastModified)
	}
	created := put("backups/a.tar", 200<<10, "")
	put("backups/small.tar", 10, "") // under 128 KiB: no transition by default
	put("docs/b.txt", 200<<10, "trash=yes")
	put("docs/c.txt", 200<<10, "trash=no")

	run := func(want int, args ...string) string {
		t.Helper()
		code, out, errs := runCLI(t, args...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, want, out, errs)
		}
		return out + errs
	}
	ia := lifecycle.DueAfter(created, 30, 0).Format("2006-01-02")
	out := run(ExitOK, "lifecycle", "preview", "s3://lcb", "--endpoint-url", ep.url)
	for _, s := range []string{"4 objects, 2 with actions", "backups/a.tar", ia, "STANDARD_IA", "docs/b.txt",
		"trash", "Transition:GLACIER×1"} {
		if !strings.Contains(out, s) {
			t.Errorf("preview output lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "small.tar") || strings.Contains(out, "docs/c.txt") {
		t.Errorf("preview lists objects no rule acts on:\n%s", out)
	}
	t.Log("\n" + out)

	// JSON, a prefix, a window of 40 days: only the first transition.
	out = run(ExitOK, "lifecycle", "preview", "s3://lcb/backups/", "--days", "40", "--json", "--endpoint-url", ep.url)
	var p struct {
		Objects int
		Entries []struct {
			Key     string
			Actions []struct {
				Due          time.Time `json:"due"`
				Action       string    `json:"action"`
				StorageClass string    `json:"storage_class"`
				RuleID       string    `json:"rule_id"`
			}
		}
		Rules []struct {
			RuleID  string `json:"rule_id"`
			Objects int    `json:"objects"`
			Bytes   int64  `json:"bytes"`
		}
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("preview --json: %v\n%s", err, out)
	}
	if p.Objects != 2 || len(p.Entries) != 1 || len(p.Entries[0].Actions) != 1 ||
		!p.Entries[0].Actions[0].Due.Equal(lifecycle.DueAfter(created, 30, 0)) || p.Entries[0].Actions[0].RuleID != "backups" ||
		p.Rules[0].Objects != 1 || p.Rules[0].Bytes != 200<<10 {
		t.Errorf("preview --json: %+v", p)
	}

	// A configuration file instead of the bucket's.
	file := filepath.Join(t.TempDir(), "policy.json")
	os.WriteFile(file, []byte(`{"Rules": [{"ID": "all", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 7}}]}`), 0o644)
	out = run(ExitOK, "lifecycle", "preview", "s3://lcb", "--config", file, "--endpoint-url", ep.url)
	if !strings.Contains(out, "4 objects, 4 with actions") || !strings.Contains(out, "Expire×4") {
		t.Errorf("preview --config:\n%s", out)
	}

	out = run(ExitOK, "lifecycle", "simulate", "--bucket", "s3://lcb", "--months", "4", "--start", created.Format("2006-01-02"),
		"--endpoint-url", ep.url)
	if !strings.Contains(out, "s3://lcb (4 objects)") || !strings.Contains(out, "GLACIER $") || !strings.Contains(out, "The policy") {
		t.Errorf("simulate:\n%s", out)
	}
	t.Log("\n" + out)
	out = run(ExitOK, "lifecycle", "simulate", "--bucket", "s3://lcb", "--months", "4", "--json", "--endpoint-url", ep.url)
	var rep struct {
		Policy struct {
			Months []struct {
				Classes []struct {
					Class   string
					Objects float64
				}
			}
		}
		Baseline struct{ Cost float64 }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("simulate --json: %v\n%s", err, out)
	}
	got := map[string]float64{}
	for _, c := range rep.Policy.Months[3].Classes {
		got[c.Class] = c.Objects
	}
	// After 4 months: a.tar and b.txt in GLACIER, the others in STANDARD.
	if got[lifecycle.Glacier] != 2 || got[lifecycle.Standard] != 2 || rep.Baseline.Cost <= 0 {
		t.Errorf("simulate --json, month 4: %v (baseline $%v)", got, rep.Baseline.Cost)
	}

	// Usage and failures.
	run(ExitUsage, "lifecycle")
	run(ExitUsage, "lifecycle", "frobnicate")
	run(ExitUsage, "lifecycle", "preview")
	run(ExitUsage, "lifecycle", "preview", "lc")
	run(ExitUsage, "lifecycle", "simulate", "--months", "3")
	run(ExitUsage, "lifecycle", "simulate", "--bucket", "s3://lcb", "--population", file)
	run(ExitUsage, "lifecycle", "simulate", "--population", file)
	run(ExitUsage, "lifecycle", "simulate", "--bucket", "s3://lcb", "--prices", file, "--endpoint-url", ep.url)
	ep.setup(t, "bare")
	out = run(ExitFailure, "lifecycle", "preview", "s3://bare", "--endpoint-url", ep.url)
	if !strings.Contains(out, "no lifecycle configuration") {
		t.Errorf("bucket without configuration: %s", out)
	}
}

// TestLifecycleSimulatePopulation runs simulate over a described
// population.
func TestLifecycleSimulatePopulation(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.json")
	pop := filepath.Join(dir, "pop.yaml")
	prices := filepath.Join(dir, "prices.yaml")
	os.WriteFile(policy, []byte(`{"Rules": [{"ID": "r", "Filter": {}, "Status": "Enabled",
	  "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]}]}`), 0o644)
	os.WriteFile(pop, []byte("initial: {count: 1000, size: 1GiB}\n"), 0o644)
	os.WriteFile(prices, []byte("classes: {GLACIER: {storage_gb_month: 0.001}}\n"), 0o644)
	code, out, errs := runCLI(t, "lifecycle", "simulate", "--config", policy, "--population", pop, "--months", "2",
		"--start", "2026-01-01", "--prices", prices)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, s := range []string{"2026-01", "2026-02", "1000.00", "with overrides", "saves"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	os.WriteFile(pop, []byte("initial: {count: 1000}\n"), 0o644)
	if code, _, errs := runCLI(t, "lifecycle", "simulate", "--config", policy, "--population", pop); code != ExitUsage || !strings.Contains(errs, "no size") {
		t.Errorf("bad population: exit %d, %s", code, errs)
	}
}
