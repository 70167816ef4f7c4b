// Package s3client builds the aws-sdk-go-v2 S3 client that firn's
// client commands (backup, get, restore, lifecycle) use against firn or
// any S3 endpoint, AWS included: the SDK's usual credential chain and
// profiles, or explicit credentials, and path-style addressing for a
// custom endpoint.
package s3client

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Config says how to reach the endpoint.
type Config struct {
	// Endpoint is the URL of an S3-compatible service; empty means AWS.
	// A custom endpoint is addressed path-style (endpoint/bucket/key).
	Endpoint string
	// Region for SigV4; empty: from the SDK's chain, else us-east-1.
	Region string
	// Profile selects a shared-config profile; empty: AWS_PROFILE or
	// "default".
	Profile string
	// Credentials, when set, replace the SDK's default chain.
	Credentials aws.CredentialsProvider
	// HTTPClient makes the requests; nil: the SDK's default.
	HTTPClient *http.Client
}

// New makes a client for cfg. It makes no request.
func New(ctx context.Context, cfg Config) (*s3.Client, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(cfg.Profile))
	}
	if cfg.Credentials != nil {
		opts = append(opts, awsconfig.WithCredentialsProvider(cfg.Credentials))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, awsconfig.WithHTTPClient(cfg.HTTPClient))
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	if ac.Region == "" {
		ac.Region = "us-east-1"
	}
	return s3.NewFromConfig(ac, func(o *s3.Options) {
		// Endpoints that send no checksum (moto, many gateways) are
		// normal, not worth a log line.
		o.DisableLogOutputChecksumValidationSkipped = true
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
			o.UsePathStyle = true
		}
	}), nil
}

// ParseURL splits s3://bucket/key-or-prefix.
func ParseURL(u string) (bucket, rest string, err error) {
	r, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q: want s3://bucket/...", u)
	}
	bucket, rest, _ = strings.Cut(r, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q: no bucket", u)
	}
	return bucket, rest, nil
}
