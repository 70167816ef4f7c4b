package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The root credentials the server is started with. The secret has the
// '/' and '+' real AWS secrets have.
const (
	accessKey = "FIRNE2EACCESSKEY0001"
	secretKey = "e2e/Secret+Key/0123456789abcdefghijklmnop"
	region    = "us-east-1"
)

// srv is the firn server the tests talk to.
var srv *server

type server struct {
	Addr     string // host:port of the plain HTTP listener
	Endpoint string // http://Addr
	// TLSEndpoint is a TLS front (a byte-for-byte tunnel, see tlsTunnel)
	// to the same server, for clients that behave differently over
	// HTTPS; CAFile is its certificate in PEM.
	TLSEndpoint string
	CAFile      string

	logPath string
	binPath string // the firn binary it runs
	data    string // its data directory
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "firn-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	s, err := startServer(tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start firn:", err)
		if s != nil {
			fmt.Fprint(os.Stderr, s.logTail(0, 100))
		}
		return 1
	}
	srv = s
	tun, err := startTLSTunnel(tmp, s.Addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: TLS tunnel:", err)
		s.stop()
		return 1
	}
	s.TLSEndpoint, s.CAFile = "https://"+tun.addr, tun.caFile

	code := m.Run()

	tun.close()
	if err := s.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: firn did not shut down cleanly:", err)
		code = 1
	}
	logged, _ := os.ReadFile(s.logPath)
	if bytes.Contains(logged, []byte("WARNING: DATA RACE")) {
		fmt.Fprintln(os.Stderr, "e2e: the race detector found a data race in firn (see its log below)")
		code = 1
	}
	// An error the server logged (an internal error, a panic) is a bug even
	// when the client got over it.
	for _, l := range readLines(string(logged)) {
		if strings.Contains(l, "level=ERROR") {
			fmt.Fprintln(os.Stderr, "e2e: firn logged an error:", l)
			code = 1
		}
	}
	if os.Getenv("FIRN_E2E_SERVER_LOG") == "1" {
		fmt.Fprintf(os.Stderr, "--- firn server log ---\n%s", logged)
	} else if code != 0 {
		fmt.Fprintf(os.Stderr, "--- firn server log (last 200 lines) ---\n%s", s.logTail(0, 200))
	}
	return code
}

// moduleRoot is the directory of the go.mod this package belongs to.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside a Go module")
	}
	return filepath.Dir(mod), nil
}

// startServer builds firn into dir and starts it on a free loopback port
// with a fresh data directory, and extra server flags.
func startServer(dir string, extra ...string) (*server, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "firn")
	args := []string{"build", "-o", bin}
	if os.Getenv("FIRN_E2E_RACE") == "1" {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "./cmd/firn")...)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./cmd/firn: %v\n%s", err, out)
	}
	// A port picked free can be taken before the server binds it: retry.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &server{Addr: fmt.Sprintf("127.0.0.1:%d", port), logPath: filepath.Join(dir, fmt.Sprintf("firn-%d.log", attempt)),
			binPath: bin, data: filepath.Join(dir, fmt.Sprintf("data-%d", attempt)), exited: make(chan struct{})}
		s.Endpoint = "http://" + s.Addr
		logf, err := os.Create(s.logPath)
		if err != nil {
			return nil, err
		}
		argv := []string{"server", "--data", s.data, "--address", s.Addr,
			// Restores complete as fast as the disk allows.
			"--restore-latency", "Expedited=0s,Standard=0s,Bulk=0s"}
		s.cmd = exec.Command(bin, append(argv, extra...)...)
		s.cmd.Env = append(cleanEnv(dir), "FIRN_ACCESS_KEY="+accessKey, "FIRN_SECRET_KEY="+secretKey)
		s.cmd.Stdout, s.cmd.Stderr = logf, logf
		if err := s.cmd.Start(); err != nil {
			logf.Close()
			return nil, err
		}
		go func() {
			s.waitErr = s.cmd.Wait()
			logf.Close()
			close(s.exited)
		}()
		if lastErr = s.waitReady(30 * time.Second); lastErr == nil {
			return s, nil
		}
		s.stop()
		if attempt == 2 {
			return s, lastErr
		}
	}
	return nil, lastErr
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitReady waits until the server answers HTTP as firn (an anonymous
// request is refused with "Server: firn"), so that another process that
// took the port is not mistaken for it.
func (s *server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	hc := &http.Client{Timeout: 2 * time.Second}
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("firn exited during start-up: %v", s.waitErr)
		default:
		}
		resp, err := hc.Get(s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			if resp.Header.Get("Server") == "firn" {
				return nil
			}
			err = fmt.Errorf("%s answers as %q, not firn", s.Addr, resp.Header.Get("Server"))
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("firn did not answer on %s within %v: %v", s.Addr, limit, last)
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() error {
	select {
	case <-s.exited:
		return fmt.Errorf("firn had already exited: %v", s.waitErr)
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return s.waitErr
	case <-time.After(45 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		return errors.New("firn did not exit within 45s of SIGTERM")
	}
}

// logSize is the current length of the server log, to show what a test
// caused when it fails.
func (s *server) logSize() int64 {
	fi, err := os.Stat(s.logPath)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logTail returns at most n of the last lines the server logged after
// byte offset from.
func (s *server) logTail(from int64, n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil || from > int64(len(b)) {
		return ""
	}
	lines := strings.SplitAfter(string(b[from:]), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d lines before]\n", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "")
}

// cleanEnv is the environment for subprocesses: this process's, less
// everything that configures an S3 client or a proxy, with home as HOME.
func cleanEnv(home string) []string {
	drop := []string{"AWS_", "RCLONE_", "RESTIC_", "S3CMD", "BOTO", "HOME=", "XDG_", "HTTP_PROXY=", "HTTPS_PROXY=",
		"ALL_PROXY=", "NO_PROXY=", "http_proxy=", "https_proxy=", "all_proxy=", "no_proxy=", "REQUESTS_CA_BUNDLE=",
		"SSL_CERT_FILE=", "CURL_CA_BUNDLE=", "FIRN_", "PYTHONPATH=", "PYTHONHOME="}
	var env []string
next:
	for _, kv := range os.Environ() {
		for _, p := range drop {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"), "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
		"LC_ALL=C.UTF-8", "LANG=C.UTF-8", "TZ=UTC")
}

// client runs one tool with its own temporary HOME.
type client struct {
	t    *testing.T
	home string
	env  []string
	dir  string // working directory of the commands
}

// newClient makes a temporary HOME; on failure the test's share of the
// server log is printed.
func newClient(t *testing.T, extraEnv ...string) *client {
	t.Helper()
	home := t.TempDir()
	from := srv.logSize()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("firn server log during this test:\n%s", srv.logTail(from, 80))
		}
	})
	return &client{t: t, home: home, dir: home, env: append(cleanEnv(home), extraEnv...)}
}

// path is a path under the client's HOME.
func (c *client) path(elem ...string) string {
	return filepath.Join(append([]string{c.home}, elem...)...)
}

// cmdTimeout bounds one client command.
const cmdTimeout = 10 * time.Minute

// exec runs name args and returns its stdout and stderr, and an error
// that shows both when it fails.
func (c *client) exec(name string, args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = c.env, c.dir
	cmd.WaitDelay = 10 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &limitedBuffer{max: 256 << 10, buf: &errb}
	start := time.Now()
	err = cmd.Run()
	c.t.Logf("$ %s (%.1fs)", shellQuote(name, args), time.Since(start).Seconds())
	if err != nil {
		err = fmt.Errorf("%s: %v\nstderr:\n%s\nstdout:\n%s", shellQuote(name, args), err,
			tail(errb.String(), 6000), tail(out.String(), 3000))
	}
	return out.String(), errb.String(), err
}

// run runs name args and returns its stdout; it fails the test if the
// command fails.
func (c *client) run(name string, args ...string) string {
	c.t.Helper()
	out, _, err := c.exec(name, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// runAll is run returning stdout and stderr together.
func (c *client) runAll(name string, args ...string) string {
	c.t.Helper()
	out, errOut, err := c.exec(name, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out + errOut
}

type limitedBuffer struct {
	max int
	buf *bytes.Buffer
	mu  sync.Mutex
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "[...]" + s[len(s)-n:]
}

func shellQuote(name string, args []string) string {
	parts := []string{name}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$\\*?[]{}()<>|&;`") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// need skips the test when a tool is missing, or fails it when
// FIRN_E2E_REQUIRE=1.
func need(t *testing.T, tool string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("FIRN_E2E_REQUIRE") == "1" {
		t.Fatalf("%s not installed: %v (FIRN_E2E_REQUIRE=1: every client must be present)", tool, err)
	}
	t.Skipf("%s not installed: %v", tool, err)
}

// lookTool finds an executable and checks that `path versionArgs...`
// prints something containing want.
func lookTool(name string, want string, versionArgs ...string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", err
	}
	out, err := exec.Command(p, versionArgs...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", p, strings.Join(versionArgs, " "), err, tail(string(out), 500))
	}
	if !strings.Contains(string(out), want) {
		return "", fmt.Errorf("%s %s printed %q, want %q in it", p, strings.Join(versionArgs, " "), tail(strings.TrimSpace(string(out)), 200), want)
	}
	return p, nil
}

// tlsTunnel terminates TLS on a loopback port and copies the bytes
// unchanged to and from the firn server, so that a client that only uses
// some protocol features over HTTPS (boto3's streaming trailer
// checksums) can be tested against the real server.
type tlsTunnel struct {
	addr   string
	caFile string
	ln     net.Listener
}

func startTLSTunnel(dir, backend string) (*tlsTunnel, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "firn e2e"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	caFile := filepath.Join(dir, "tunnel-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		return nil, err
	}
	t := &tlsTunnel{addr: ln.Addr().String(), caFile: caFile, ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go t.pipe(c, backend)
		}
	}()
	return t, nil
}

func (t *tlsTunnel) pipe(c net.Conn, backend string) {
	defer c.Close()
	b, err := net.Dial("tcp", backend)
	if err != nil {
		return
	}
	defer b.Close()
	done := make(chan struct{}, 2)
	go func() {
		io.Copy(b, c)
		b.(*net.TCPConn).CloseWrite()
		done <- struct{}{}
	}()
	go func() {
		io.Copy(c, b)
		if tc, ok := c.(*tls.Conn); ok {
			tc.CloseWrite()
		}
		done <- struct{}{}
	}()
	<-done
	<-done
}

// close stops accepting; connections still open end with their clients.
func (t *tlsTunnel) close() { t.ln.Close() }

// readLines splits s into non-empty lines.
func readLines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := strings.TrimRight(sc.Text(), "\r"); strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// bin is the firn binary the server runs, for admin commands.
func (s *server) bin() string { return s.binPath }

// dataDir is the server's data directory.
func (s *server) dataDir() string { return s.data }
