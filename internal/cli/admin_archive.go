package cli

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/firnhq/firn/internal/adminapi"
	"github.com/firnhq/firn/internal/app"
)

// ExitDamage is the exit code of `firn admin archive scrub` when the
// scrub found objects it could not repair (its report is printed).
const ExitDamage = 3

// adminArchive runs `firn admin archive scrub|compact|flush`: unlike the
// other admin commands, which work on the data directory, these ask the
// running server (which holds the archive) through its admin API.
func adminArchive(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "scrub" && args[0] != "compact" && args[0] != "flush") {
		if len(args) > 0 {
			fmt.Fprintf(stderr, "firn admin archive: unknown command %q\n\n", args[0])
		}
		fmt.Fprint(stderr, adminUsage)
		return ExitUsage
	}
	sub := args[0]
	name := "firn admin archive " + sub
	fs, data := adminFlags(name, stderr)
	asJSON := fs.Bool("json", false, "print the server's report as JSON")
	endpoint := fs.String("endpoint-url", defaultAdminEndpoint(os.Getenv), "URL of the running firn server (default from FIRN_ADDRESS and FIRN_TLS_CERT, else http://127.0.0.1:9000)")
	region := fs.String("region", cmp.Or(os.Getenv("FIRN_REGION"), "us-east-1"), "the server's region (requests are signed for it)")
	caCert := fs.String("ca-cert", os.Getenv("AWS_CA_BUNDLE"), "PEM file of the CA (or self-signed certificate) to trust for an https endpoint (default AWS_CA_BUNDLE, else the system's)")
	force := fs.Bool("force", false, "compact: rewrite packs however recently their objects were stored (ignore --compact-min-age)")
	liveRatio := fs.Float64("live-ratio", 0, "compact: rewrite packs whose live objects fill less than this share, in (0, 1] (default the server's --compact-live-ratio)")
	if err := fs.Parse(args[1:]); err != nil {
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", name, fs.Arg(0))
		return ExitUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if sub != "compact" && (set["force"] || set["live-ratio"]) {
		fmt.Fprintf(stderr, "%s: --force and --live-ratio are for compact\n", name)
		return ExitUsage
	}
	if set["live-ratio"] && !(*liveRatio > 0 && *liveRatio <= 1) {
		fmt.Fprintf(stderr, "%s: --live-ratio must be more than 0 and at most 1\n", name)
		return ExitUsage
	}
	ak, sk, err := adminCredentials(*data)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitUsage
	}
	c, err := newAdminClient(*endpoint, *region, *caCert, ak, sk)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitUsage
	}
	path := "archive/" + sub
	if sub == "compact" {
		q := url.Values{}
		if *force {
			q.Set("force", "true")
		}
		if set["live-ratio"] {
			q.Set("live-ratio", strconv.FormatFloat(*liveRatio, 'g', -1, 64))
		}
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
	}
	start := time.Now()
	body, err := c.post(ctx, path)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitFailure
	}
	took := time.Since(start).Round(time.Millisecond)
	switch sub {
	case "scrub":
		var rep adminapi.ScrubReport
		if err := json.Unmarshal(body, &rep); err != nil {
			fmt.Fprintf(stderr, "%s: the server's answer: %v\n", name, err)
			return ExitFailure
		}
		code := ExitOK
		if len(rep.Unrecoverable) > 0 {
			code = ExitDamage
		}
		if *asJSON {
			if c := printJSON(stdout, stderr, rep); c != ExitOK {
				return c
			}
			return code
		}
		fmt.Fprintf(stdout, "scrubbed %d packs (%d blocks) and read back %d objects in %v\n", rep.Packs, rep.Blocks, rep.Objects, took)
		fmt.Fprintf(stdout, "blocks repaired from parity: %d\nshard files rebuilt: %d\n", rep.BlocksRepaired, rep.ShardsRebuilt)
		if len(rep.Unrecoverable) == 0 {
			fmt.Fprintln(stdout, "unrecoverable objects: none")
			return ExitOK
		}
		fmt.Fprintf(stdout, "unrecoverable objects: %d (damage beyond the parity):\n", len(rep.Unrecoverable))
		for _, d := range rep.Unrecoverable {
			fmt.Fprintln(stdout, "  "+damagedObject(d))
		}
		return code
	case "compact":
		var rep adminapi.CompactReport
		if err := json.Unmarshal(body, &rep); err != nil {
			fmt.Fprintf(stderr, "%s: the server's answer: %v\n", name, err)
			return ExitFailure
		}
		if *asJSON {
			return printJSON(stdout, stderr, rep)
		}
		which := fmt.Sprintf("less than %g%% live", rep.LiveRatio*100)
		if rep.Force {
			which += ", forced"
		} else {
			which += fmt.Sprintf(", objects at least %d model days old", rep.MinAgeDays)
		}
		if rep.Packs == 0 {
			fmt.Fprintf(stdout, "no pack to compact (packs %s)\n", which)
			if !rep.Force {
				fmt.Fprintln(stdout, "--force rewrites packs regardless of the age of their objects")
			}
			return ExitOK
		}
		fmt.Fprintf(stdout, "compacted %d packs (%s) in %v: %d live objects moved, %s reclaimed\n",
			rep.Packs, which, took, rep.Objects, human(rep.BytesReclaimed))
		if rep.Objects > 0 {
			fmt.Fprintf(stdout, "the moved objects are sealed into a new pack with the next seal, or now with `firn admin archive flush`\n")
		}
	case "flush":
		if *asJSON {
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				fmt.Fprintf(stderr, "%s: the server's answer: %v\n", name, err)
				return ExitFailure
			}
			return printJSON(stdout, stderr, v)
		}
		fmt.Fprintf(stdout, "open archive pack sealed (%v)\n", took)
	}
	return ExitOK
}

// damagedObject describes an unrecoverable object in a line.
func damagedObject(d adminapi.DamagedObject) string {
	if d.Bucket == "" {
		return "blob " + d.Blob
	}
	s := "s3://" + d.Bucket + "/" + d.Key
	if d.VersionID != "" {
		s += " version " + d.VersionID
	}
	if d.UploadID != "" {
		s += fmt.Sprintf(" (upload %s part %d)", d.UploadID, d.PartNumber)
	}
	return s + " blob " + d.Blob
}

// defaultAdminEndpoint is the server's URL as its own settings give it:
// FIRN_ADDRESS (a wildcard host meaning this host), https when
// FIRN_TLS_CERT is set.
func defaultAdminEndpoint(env func(string) string) string {
	scheme := "http"
	if env("FIRN_TLS_CERT") != "" {
		scheme = "https"
	}
	addr := cmp.Or(env("FIRN_ADDRESS"), "127.0.0.1:9000")
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return scheme + "://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// adminCredentials are the root credentials the admin API needs:
// FIRN_ACCESS_KEY and FIRN_SECRET_KEY, else those generated into the
// data directory.
func adminCredentials(data string) (string, string, error) {
	ak, sk := os.Getenv("FIRN_ACCESS_KEY"), os.Getenv("FIRN_SECRET_KEY")
	if (ak == "") != (sk == "") {
		return "", "", errors.New("set both FIRN_ACCESS_KEY and FIRN_SECRET_KEY, or neither")
	}
	if ak != "" {
		return ak, sk, nil
	}
	ak, sk, err := app.StoredRootCredentials(data)
	if err != nil {
		return "", "", fmt.Errorf("no root credentials: set FIRN_ACCESS_KEY and FIRN_SECRET_KEY, or give --data of a server that generated its own (%v)", err)
	}
	return ak, sk, nil
}

// adminClient signs requests to the admin API.
type adminClient struct {
	base   *url.URL
	region string
	creds  aws.Credentials
	http   *http.Client
}

func newAdminClient(endpoint, region, caCert, ak, sk string) (*adminClient, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--endpoint-url %q: want http://HOST:PORT or https://HOST:PORT", endpoint)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caCert != "" {
		pem, err := os.ReadFile(caCert)
		if err != nil {
			return nil, fmt.Errorf("--ca-cert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-cert %s: no PEM certificate", caCert)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	// No timeout: a scrub of a large archive takes as long as reading
	// it; interrupting the command cancels it on the server.
	return &adminClient{base: u, region: region, creds: aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk},
		http: &http.Client{Transport: tr}}, nil
}

// emptySHA256 is the hex SHA-256 of an empty body.
var emptySHA256 = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()

// post sends an empty signed POST to the admin API path (under
// adminapi.PathPrefix) and returns the answer's body, or an error that
// carries the server's error code and message.
func (c *adminClient) post(ctx context.Context, path string) ([]byte, error) {
	u := strings.TrimSuffix(c.base.String(), "/") + adminapi.PathPrefix + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, http.NoBody)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	req.Header.Set("User-Agent", "firn-cli/"+Version)
	if err := v4.NewSigner().SignHTTP(ctx, c.creds, req, emptySHA256, "s3", c.region, time.Now()); err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		var e struct{ Error, Message string }
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("%s: %s (HTTP %d)", e.Error, e.Message, resp.StatusCode)
		}
		return nil, fmt.Errorf("HTTP %s from %s", resp.Status, c.base.Host)
	}
	return b, nil
}
