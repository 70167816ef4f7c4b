// Package testenv starts the outside services tests run against, or
// skips the test with a clear message when one is not installed. It is
// imported by tests only.
package testenv

import (
	"bufio"
	"context"
	"os/exec"
	"regexp"
	"testing"
	"time"
)

// Moto starts moto's S3 server (python3 -m moto.server), an S3 that is
// not firn, on a free loopback port for the test's duration and returns
// its endpoint. It skips t in -short mode or when moto is not installed.
// moto accepts any credentials.
func Moto(t *testing.T) string {
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
		cancel()
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
		return endpoint
	case <-time.After(30 * time.Second):
		t.Fatal("moto did not start listening within 30s")
	}
	return ""
}
