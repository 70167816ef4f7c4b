// Package glacierapi serves the part of the Amazon S3 Glacier (vault) REST
// API that firn implements: getting and setting the data retrieval policy,
//
//	GET /{accountId}/policies/data-retrieval   GetDataRetrievalPolicy -> 200 JSON
//	PUT /{accountId}/policies/data-retrieval   SetDataRetrievalPolicy -> 204
//
// so that `aws glacier get-data-retrieval-policy --account-id -` and
// `aws glacier set-data-retrieval-policy` work against firn. The policy
// itself (JSON shape, validation, admission) lives in package retrieval
// and is kept in a retrieval.Store.
//
// Requests are authenticated with Signature V4 scoped to the service
// "glacier" (a request signed for "s3" is refused, as AWS refuses it).
// Like every AWS service but S3, Glacier clients do not send
// x-amz-content-sha256 except on uploads: the payload hash of the
// canonical request is the hex SHA-256 of the body, which the Handler
// computes (bodies are small and bounded) before verifying.
//
// Every request must carry x-amz-glacier-version: 2012-06-01, which the
// AWS SDKs and CLI always send; AWS answers a request without it with
// MissingParameterValueException "Required parameter missing: API
// version". The {accountId} must be "-" (the signer's account) or
// Config.AccountID, else AccessDeniedException.
//
// Errors are Glacier's JSON, {"code":"...","message":"...","type":"Client"}
// with the status of Glacier's error table (errors.go), and every response
// carries x-amzn-RequestId. Anything firn does not serve (vaults, jobs,
// provisioned capacity) is answered 404 ResourceNotFoundException.
//
// IsGlacierRequest tells Glacier requests from S3 ones, so that both APIs
// can share one listener.
package glacierapi

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/firnhq/firn/internal/retrieval"
	"github.com/firnhq/firn/internal/s3api/sigv4"
)

// APIVersion is the only Glacier API version, sent by clients in the
// x-amz-glacier-version header.
const APIVersion = "2012-06-01"

// Service is the SigV4 service name of the Glacier API.
const Service = "glacier"

// MaxBodySize bounds the request bodies the Handler reads (a policy
// document is under a hundred bytes).
const MaxBodySize = 64 << 10

// Config assembles a Handler.
type Config struct {
	// Verifier authenticates requests. Required; its Service must be
	// "glacier". Its Region (us-east-1 when empty) also names vault ARNs
	// in error messages.
	Verifier *sigv4.Verifier
	// Store keeps the data retrieval policy. Required.
	Store retrieval.Store
	// AccountID is the account id accepted in request paths besides "-".
	// Empty: only "-" is accepted.
	AccountID string
	// Log receives policy changes and internal errors; nil discards.
	Log *slog.Logger
}

// Handler serves the Glacier API subset. It is safe for concurrent use.
type Handler struct {
	auth    *sigv4.Verifier
	store   retrieval.Store
	account string
	region  string
	log     *slog.Logger
}

// New returns the Glacier API handler for c, or an error if c lacks a
// Verifier or Store or its Verifier is not scoped to "glacier".
func New(c Config) (*Handler, error) {
	switch {
	case c.Verifier == nil:
		return nil, errors.New("glacierapi: Config.Verifier is required")
	case c.Verifier.Service != Service:
		return nil, fmt.Errorf("glacierapi: Config.Verifier.Service is %q, want %q", c.Verifier.Service, Service)
	case c.Store == nil:
		return nil, errors.New("glacierapi: Config.Store is required")
	}
	h := &Handler{auth: c.Verifier, store: c.Store, account: c.AccountID, region: c.Verifier.Region, log: c.Log}
	if h.region == "" {
		h.region = "us-east-1"
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// request is one Glacier call in flight.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	id   string
	body []byte // the authenticated payload
	user string // authenticated access key id
}

func newRequestID() string {
	var b [33]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rq := &request{w: w, r: r, id: newRequestID()}
	w.Header().Set("x-amzn-RequestId", rq.id)
	w.Header().Set("Server", "firn")
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.Error("panic serving Glacier request", "method", r.Method, "path", r.URL.Path, "panic", p, "request_id", rq.id)
			writeError(w, errInternal)
		}
	}()
	if err := h.serve(rq); err != nil {
		api, known := toAPIError(err)
		if !known {
			h.log.Error("Glacier request failed", "method", r.Method, "path", r.URL.Path, "err", err, "request_id", rq.id)
		}
		writeError(w, api)
	}
}

func (h *Handler) serve(rq *request) error {
	r := rq.r
	if err := h.authenticate(rq); err != nil {
		return err
	}
	switch vs := r.Header.Values("X-Amz-Glacier-Version"); {
	case len(vs) == 0:
		return errMissingAPIVersion
	case len(vs) > 1 || vs[0] != APIVersion:
		return errInvalidParameter.withf("Invalid API version: %.64q; the Glacier API version is %s", strings.Join(vs, ","), APIVersion)
	}

	account, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !ok || account == "" || !strings.HasPrefix(r.URL.Path, "/") {
		return unsupported(r)
	}
	if account != "-" && (h.account == "" || account != h.account) {
		return errAccessDenied.withf("Access denied: the account ID %.64q in the request URI is neither \"-\" nor the caller's account", account)
	}
	switch {
	case rest == "policies/data-retrieval":
		switch r.Method {
		case http.MethodGet:
			return h.getPolicy(rq)
		case http.MethodPut:
			return h.setPolicy(rq)
		}
	case strings.HasPrefix(rest, "vaults/"):
		// firn keeps no vaults: any named vault does not exist (but a
		// CreateVault is not pretended to fail that way).
		name, sub, _ := strings.Cut(strings.TrimPrefix(rest, "vaults/"), "/")
		if name != "" && (r.Method != http.MethodPut || sub != "") {
			acct := account
			if acct == "-" && h.account != "" {
				acct = h.account
			}
			return errResourceNotFound.withf("Vault not found for ARN: arn:aws:glacier:%s:%s:vaults/%.255s", h.region, acct, name)
		}
	}
	return unsupported(r)
}

func unsupported(r *http.Request) error {
	return errResourceNotFound.withf("firn does not serve %s %.256s: of the Glacier API it serves only GetDataRetrievalPolicy and SetDataRetrievalPolicy (GET and PUT /-/policies/data-retrieval)",
		r.Method, r.URL.Path)
}

// authenticate reads the (bounded) body and verifies the signature over
// it. Glacier clients sign the hex SHA-256 of the body without sending it
// in x-amz-content-sha256, so the hash is presented to the Verifier in
// that header when the request carries none.
func (h *Handler) authenticate(rq *request) error {
	r := rq.r
	if r.ContentLength > MaxBodySize {
		return errBodyTooLarge
	}
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, MaxBodySize+1))
		if err != nil {
			return errBadRequest.withf("The request body could not be read: %v", err)
		}
		if len(body) > MaxBodySize {
			return errBodyTooLarge
		}
	}
	vr := r.Clone(r.Context())
	vr.Body = io.NopCloser(bytes.NewReader(body))
	if len(vr.Header.Values("X-Amz-Content-Sha256")) == 0 && !strings.Contains(r.URL.RawQuery, "X-Amz-Content-Sha256") {
		sum := sha256.Sum256(body)
		vr.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	}
	res, err := h.auth.Verify(vr)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	// Reading the verified body completes the check of a declared hash
	// (and decodes an aws-chunked body).
	rq.body, err = io.ReadAll(io.LimitReader(res.Body, MaxBodySize+1))
	if err != nil {
		return err
	}
	if len(rq.body) > MaxBodySize {
		return errBodyTooLarge
	}
	rq.user = res.AccessKeyID
	return nil
}

func (h *Handler) getPolicy(rq *request) error {
	p, err := h.store.GetPolicy(rq.r.Context())
	if err != nil {
		return fmt.Errorf("get data retrieval policy: %w", internalError{err})
	}
	doc, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("stored data retrieval policy %+v: %w", p, internalError{err})
	}
	hd := rq.w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Content-Length", strconv.Itoa(len(doc)))
	rq.w.WriteHeader(http.StatusOK)
	rq.w.Write(doc)
	return nil
}

func (h *Handler) setPolicy(rq *request) error {
	p, err := retrieval.Parse(rq.body)
	if err != nil {
		return err
	}
	if err := h.store.PutPolicy(rq.r.Context(), p); err != nil {
		return fmt.Errorf("set data retrieval policy: %w", internalError{err})
	}
	h.log.Info("data retrieval policy set", "policy", p.String(), "access_key", rq.user, "request_id", rq.id)
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}
