package glacierapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/firnhq/firn/internal/retrieval"
)

// awsCLIv2 is where Debian's awscli package installs AWS CLI v2.
const awsCLIv2 = "/usr/bin/aws"

// need skips the test when a client is missing, or fails it when
// FIRN_E2E_REQUIRE=1 (as CI sets).
func need(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("FIRN_E2E_REQUIRE") == "1" {
		t.Fatalf("%s is required (FIRN_E2E_REQUIRE=1) but unavailable: %v", what, err)
	}
	t.Skipf("%s unavailable, skipping (set FIRN_E2E_REQUIRE=1 to fail instead): %v", what, err)
}

func findAWSCLIv2() error {
	out, err := exec.Command(awsCLIv2, "--version").CombinedOutput()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(out), "aws-cli/2.") {
		return errors.New(awsCLIv2 + " is not AWS CLI v2: " + strings.TrimSpace(string(out)))
	}
	return nil
}

// cli runs the AWS CLI against one server with a private configuration.
type cli struct {
	t        *testing.T
	endpoint string
	env      []string
}

func newCLI(t *testing.T, endpoint string) *cli {
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(config, []byte("[default]\nregion = us-east-1\noutput = json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(creds, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return &cli{t: t, endpoint: endpoint, env: []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"LANG=C.UTF-8",
		"AWS_ACCESS_KEY_ID=" + testAccessKey,
		"AWS_SECRET_ACCESS_KEY=" + testSecret,
		"AWS_DEFAULT_REGION=" + testRegion,
		"AWS_CONFIG_FILE=" + config,
		"AWS_SHARED_CREDENTIALS_FILE=" + creds,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_PAGER=",
		"AWS_CLI_AUTO_PROMPT=off",
		"NO_PROXY=*",
	}}
}

// run runs `aws --endpoint-url ENDPOINT glacier ARGS...` and returns its
// standard output, standard error and exit code.
func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, awsCLIv2, append([]string{"--endpoint-url", c.endpoint, "glacier"}, args...)...)
	cmd.Env = c.env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		c.t.Fatalf("aws glacier %s: %v", strings.Join(args, " "), err)
	}
	return o.String(), e.String(), code
}

// ok runs a command that must succeed.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("aws glacier %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// getPolicy runs get-data-retrieval-policy and decodes its output.
func (c *cli) getPolicy(args ...string) any {
	c.t.Helper()
	out := c.ok(append([]string{"get-data-retrieval-policy"}, args...)...)
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		c.t.Fatalf("get-data-retrieval-policy output %q: %v", out, err)
	}
	return v
}

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAWSCLIv2 drives the real AWS CLI v2 (scenario D): get and set the
// data retrieval policy, and see Glacier's errors come back.
func TestAWSCLIv2(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	need(t, "AWS CLI v2 ("+awsCLIv2+")", findAWSCLIv2())
	e := newEnv(t, nil)
	aws := newCLI(t, e.URL)

	if got, want := aws.getPolicy("--account-id", "-"), decode(t, `{"Policy":{"Rules":[{"Strategy":"None"}]}}`); !reflect.DeepEqual(got, want) {
		t.Errorf("default policy: got %v, want %v", got, want)
	}

	out := aws.ok("set-data-retrieval-policy", "--account-id", "-",
		"--policy", `{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":10737418240}]}`)
	if strings.TrimSpace(out) != "" {
		t.Errorf("set-data-retrieval-policy printed %q", out)
	}
	if got, want := aws.getPolicy("--account-id", "-"), decode(t, `{"Policy":{"Rules":[{"Strategy":"BytesPerHour","BytesPerHour":10737418240}]}}`); !reflect.DeepEqual(got, want) {
		t.Errorf("after setting BytesPerHour: got %v, want %v", got, want)
	}
	if p, _ := e.store.GetPolicy(context.Background()); p != (retrieval.Policy{Strategy: retrieval.BytesPerHour, BytesPerHour: 10737418240}) {
		t.Errorf("store holds %v", p)
	}

	// The CLI's shorthand syntax, and the configured account id (the
	// CLI requires --account-id).
	aws.ok("set-data-retrieval-policy", "--account-id", testAccount, "--policy", "Rules=[{Strategy=FreeTier}]")
	if got, want := aws.getPolicy("--account-id", testAccount), decode(t, `{"Policy":{"Rules":[{"Strategy":"FreeTier"}]}}`); !reflect.DeepEqual(got, want) {
		t.Errorf("after setting FreeTier: got %v, want %v", got, want)
	}

	for _, tc := range []struct {
		args []string
		code string
	}{
		{[]string{"set-data-retrieval-policy", "--account-id", "-", "--policy", `{"Rules":[{"Strategy":"FreeTier","BytesPerHour":1}]}`}, "InvalidParameterValueException"},
		{[]string{"set-data-retrieval-policy", "--account-id", "-", "--policy", `{"Rules":[{"Strategy":"BytesPerHour"}]}`}, "MissingParameterValueException"},
		{[]string{"set-data-retrieval-policy", "--account-id", "-", "--policy", `{"Rules":[{"Strategy":"Unlimited"}]}`}, "InvalidParameterValueException"},
		{[]string{"get-data-retrieval-policy", "--account-id", "999999999999"}, "AccessDeniedException"},
		{[]string{"describe-vault", "--account-id", "-", "--vault-name", "photos"}, "ResourceNotFoundException"},
	} {
		out, errOut, code := aws.run(tc.args...)
		t.Logf("aws glacier %s: exit %d: %s", tc.args[0], code, strings.TrimSpace(errOut))
		if code == 0 || !strings.Contains(errOut, tc.code) {
			t.Errorf("aws glacier %s: exit %d, stdout %q, stderr %q; want an error naming %s", strings.Join(tc.args, " "), code, out, errOut, tc.code)
		}
	}
	if got, want := aws.getPolicy("--account-id", "-"), decode(t, `{"Policy":{"Rules":[{"Strategy":"FreeTier"}]}}`); !reflect.DeepEqual(got, want) {
		t.Errorf("failed commands changed the policy: got %v, want %v", got, want)
	}
}
