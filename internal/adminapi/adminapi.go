// Package adminapi serves firn's administration API over HTTP on the S3
// port, under PathPrefix (a path no bucket can have, since bucket names
// hold no "_"): users, their identity policies and their access keys.
// Requests are signed with SigV4 like S3 requests and only the root
// credentials may make them. Bodies and answers are JSON; errors are
// {"error": code, "message": text} with a matching HTTP status.
//
//	POST   /_firn/admin/v1/users                 {"name": "backup"}      create a user
//	GET    /_firn/admin/v1/users                                         list users
//	DELETE /_firn/admin/v1/users/NAME                                    remove a user and its keys
//	PUT    /_firn/admin/v1/users/NAME/policy     (an IAM policy document) attach the identity policy
//	GET    /_firn/admin/v1/users/NAME/policy                             read it
//	DELETE /_firn/admin/v1/users/NAME/policy                             detach it
//	POST   /_firn/admin/v1/users/NAME/keys                               create a key (the secret is shown once)
//	GET    /_firn/admin/v1/keys[?user=NAME]                              list keys (no secrets)
//	DELETE /_firn/admin/v1/keys/ID                                       revoke a key
//	GET    /_firn/admin/v1/targets                                       list notification targets (secrets redacted)
//	POST   /_firn/admin/v1/targets               (a target.Spec)         declare a target
//	DELETE /_firn/admin/v1/targets/NAME                                  remove a target
//	POST   /_firn/admin/v1/targets/NAME/test                             send it an s3:TestEvent now
//	GET    /_firn/admin/v1/notifications/status                          backlog, oldest event, failures per target
//	GET    /_firn/admin/v1/notifications/dead[?target=NAME]              dead letters
//	POST   /_firn/admin/v1/notifications/requeue?target=NAME             deliver a target's dead letters again
//	POST   /_firn/admin/v1/archive/scrub                                 verify and repair every archive pack now (a ScrubReport)
//	POST   /_firn/admin/v1/archive/compact[?force=true][&live-ratio=R]   compact the archive now (a CompactReport)
//	POST   /_firn/admin/v1/archive/flush                                 seal the open archive pack now
//
// The archive routes run in the request: the answer comes when the work
// is done, and a client that goes away cancels it.
package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/firnhq/firn/internal/audit"
	"github.com/firnhq/firn/internal/iam"
	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/notify/dispatch"
	"github.com/firnhq/firn/internal/notify/target"
	"github.com/firnhq/firn/internal/policy"
	"github.com/firnhq/firn/internal/s3api/sigv4"
)

// PathPrefix is where the API lives.
const PathPrefix = "/_firn/admin/v1/"

// IsAdminRequest reports whether r is for this API.
func IsAdminRequest(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, PathPrefix) }

// Handler serves the API.
type Handler struct {
	IAM      *iam.Service
	Verifier *sigv4.Verifier // must look up root's key (and may know others: only root passes)
	Log      *slog.Logger
	Audit    *audit.Logger // nil: none
	// Targets manages notification targets; nil: those routes answer 404.
	Targets *dispatch.Dispatcher
	// Archive runs the archive tier's maintenance on demand; nil: those
	// routes answer 404.
	Archive Archive
}

// ErrUnavailable is wrapped by an Archive's errors when it cannot take
// work now (the server is shutting down): 503 ServiceUnavailable.
var ErrUnavailable = errors.New("unavailable")

// Archive is the archive tier's maintenance, as the composition root
// wires it to the pack store.
type Archive interface {
	// Scrub verifies every block of every sealed pack, repairs what the
	// parity allows and reads back every live object.
	Scrub(ctx context.Context) (ScrubReport, error)
	// Compact rewrites the packs that opt selects.
	Compact(ctx context.Context, opt CompactOptions) (CompactReport, error)
	// Flush seals the open pack, if it holds anything.
	Flush(ctx context.Context) error
}

// ScrubReport says what a scrub found and repaired.
type ScrubReport struct {
	Packs          int   `json:"packs"`           // sealed packs checked
	Blocks         int64 `json:"blocks"`          // shard blocks checked
	BlocksRepaired int64 `json:"blocks_repaired"` // blocks rewritten in place from parity
	ShardsRebuilt  int   `json:"shards_rebuilt"`  // shard files missing or bad, rebuilt whole
	Objects        int   `json:"objects"`         // objects read back and checked
	// Unrecoverable lists the objects that cannot be read back: damage
	// beyond the parity. Never null.
	Unrecoverable []DamagedObject `json:"unrecoverable"`
}

// DamagedObject is an archived object a scrub could not read back: its
// blob id, and where it was stored from as the archive recorded it when
// the bytes were written (a multipart object's part names its upload).
type DamagedObject struct {
	Blob       string `json:"blob"`
	Bucket     string `json:"bucket,omitempty"`
	Key        string `json:"key,omitempty"`
	VersionID  string `json:"version_id,omitempty"`
	UploadID   string `json:"upload_id,omitempty"`
	PartNumber int    `json:"part_number,omitempty"`
}

// CompactOptions choose what an on-demand compaction rewrites.
type CompactOptions struct {
	// Force rewrites packs however recently their objects were stored
	// (ignoring the minimum age).
	Force bool
	// LiveRatio: packs whose live objects fill less than this share of
	// them are rewritten; 0 means the server's --compact-live-ratio.
	LiveRatio float64
}

// CompactReport says what a compaction did.
type CompactReport struct {
	Packs          int   `json:"packs"`           // packs rewritten and removed
	Objects        int   `json:"objects"`         // live objects moved into new packs
	BytesReclaimed int64 `json:"bytes_reclaimed"` // bytes of the removed packs less the bytes moved
	// LiveRatio and MinAgeDays are what the packs were chosen by
	// (MinAgeDays is ignored when Force).
	LiveRatio  float64 `json:"live_ratio"`
	MinAgeDays int     `json:"min_age_days"`
	Force      bool    `json:"force"`
}

// User is a user as the API shows it.
type User struct {
	Name      string    `json:"name"`
	Created   time.Time `json:"created"`
	HasPolicy bool      `json:"has_policy"`
}

// Key is an access key as the API shows it; Secret only on creation.
type Key struct {
	ID      string    `json:"access_key_id"`
	User    string    `json:"user"`
	Secret  string    `json:"secret_access_key,omitempty"`
	Created time.Time `json:"created"`
}

type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

func fail(status int, code, msg string) error { return &apiError{status, code, msg} }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	v, principal, err := h.serve(w, r)
	rec := audit.Record{Time: start.UTC(), Principal: principal, Action: "firn:admin " + r.Method + " " + strings.TrimPrefix(r.URL.Path, PathPrefix),
		UserAgent: r.Header.Get("User-Agent")}
	if host, _, herr := net.SplitHostPort(r.RemoteAddr); herr == nil {
		rec.SourceIP = host
	}
	defer func() {
		rec.DurationMS = audit.Milliseconds(time.Since(start))
		h.Audit.Log(rec)
	}()
	if err == nil {
		rec.Status = http.StatusNoContent
		if v != nil {
			rec.Status = http.StatusOK
			writeJSON(w, http.StatusOK, v)
		} else {
			w.WriteHeader(http.StatusNoContent)
		}
		return
	}
	var ae *apiError
	var pe *policy.Error
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &pe):
		ae = &apiError{http.StatusBadRequest, "MalformedPolicy", pe.Msg}
	case errors.Is(err, meta.ErrNoSuchUser):
		ae = &apiError{http.StatusNotFound, "NoSuchUser", "The user does not exist."}
	case errors.Is(err, meta.ErrUserExists):
		ae = &apiError{http.StatusConflict, "UserExists", "A user with that name exists."}
	case errors.Is(err, meta.ErrNoSuchAccessKey):
		ae = &apiError{http.StatusNotFound, "NoSuchAccessKey", "The access key does not exist."}
	case errors.Is(err, dispatch.ErrNoSuchTarget):
		ae = &apiError{http.StatusNotFound, "NoSuchTarget", err.Error()}
	case errors.Is(err, dispatch.ErrTargetExists):
		ae = &apiError{http.StatusConflict, "TargetExists", err.Error()}
	case errors.Is(err, dispatch.ErrStaticTarget):
		ae = &apiError{http.StatusConflict, "StaticTarget", err.Error() + "; change it there"}
	case errors.Is(err, dispatch.ErrInvalidTarget):
		ae = &apiError{http.StatusBadRequest, "InvalidTarget", err.Error()}
	case errors.Is(err, iam.ErrInvalidUserName):
		ae = &apiError{http.StatusBadRequest, "InvalidUserName", err.Error()}
	case errors.Is(err, ErrUnavailable):
		ae = &apiError{http.StatusServiceUnavailable, "ServiceUnavailable", err.Error()}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away (and the work it asked for stopped).
		log.Warn("admin API request cancelled", "method", r.Method, "path", r.URL.Path)
		ae = &apiError{http.StatusServiceUnavailable, "RequestCancelled", "The request was cancelled before it completed."}
	default:
		var se *sigv4.Error
		if errors.As(err, &se) || errors.Is(err, sigv4.ErrMissingAuth) || errors.Is(err, sigv4.ErrSignatureMismatch) || errors.Is(err, sigv4.ErrInvalidAccessKeyID) {
			ae = &apiError{http.StatusForbidden, "AccessDenied", "Access Denied"}
		} else {
			log.Error("admin API", "method", r.Method, "path", r.URL.Path, "err", err)
			ae = &apiError{http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again."}
		}
	}
	rec.Status, rec.ErrorCode = ae.status, ae.code
	writeJSON(w, ae.status, map[string]string{"error": ae.code, "message": ae.message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// serve authenticates r as root and runs it, returning the value to
// answer (nil: 204).
func (h *Handler) serve(w http.ResponseWriter, r *http.Request) (any, string, error) {
	res, err := h.Verifier.Verify(r)
	if err != nil {
		return nil, audit.PrincipalAnonymous, err
	}
	if !h.IAM.IsRootKey(res.AccessKeyID) {
		return nil, res.AccessKeyID, fail(http.StatusForbidden, "AccessDenied", "Only the root credentials may use the admin API.")
	}
	v, err := h.route(r, res)
	return v, res.AccessKeyID, err
}

// route runs an authenticated request.
func (h *Handler) route(r *http.Request, res *sigv4.Result) (any, error) {
	ctx := r.Context()
	body := func(limit int64) ([]byte, error) {
		b, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
		if err != nil {
			return nil, err
		}
		if int64(len(b)) > limit {
			return nil, fail(http.StatusRequestEntityTooLarge, "TooLarge", "The request body is too large.")
		}
		return b, nil
	}
	parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, PathPrefix), "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "users" && r.Method == http.MethodPost:
		b, err := body(4 << 10)
		if err != nil {
			return nil, err
		}
		var in struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, fail(http.StatusBadRequest, "MalformedJSON", "The body must be {\"name\": \"...\"}.")
		}
		u, err := h.IAM.AddUser(ctx, in.Name)
		if err != nil {
			return nil, err
		}
		return User{Name: u.Name, Created: u.Created}, nil
	case len(parts) == 1 && parts[0] == "users" && r.Method == http.MethodGet:
		us, err := h.IAM.ListUsers(ctx)
		if err != nil {
			return nil, err
		}
		out := []User{}
		for _, u := range us {
			out = append(out, User{Name: u.Name, Created: u.Created, HasPolicy: len(u.Policy) > 0})
		}
		return out, nil
	case len(parts) == 2 && parts[0] == "users" && r.Method == http.MethodDelete:
		return nil, h.IAM.RemoveUser(ctx, parts[1])
	case len(parts) == 3 && parts[0] == "users" && parts[2] == "policy":
		switch r.Method {
		case http.MethodPut:
			b, err := body(10 << 10)
			if err != nil {
				return nil, err
			}
			return nil, h.IAM.PutUserPolicy(ctx, parts[1], b)
		case http.MethodDelete:
			return nil, h.IAM.PutUserPolicy(ctx, parts[1], nil)
		case http.MethodGet:
			doc, err := h.IAM.UserPolicyDocument(ctx, parts[1])
			if err != nil {
				return nil, err
			}
			if doc == nil {
				return nil, fail(http.StatusNotFound, "NoSuchPolicy", "The user has no policy.")
			}
			return json.RawMessage(doc), nil
		}
	case len(parts) == 3 && parts[0] == "users" && parts[2] == "keys" && r.Method == http.MethodPost:
		k, err := h.IAM.CreateKey(ctx, parts[1])
		if err != nil {
			return nil, err
		}
		return Key{ID: k.ID, User: k.User, Secret: k.Secret, Created: k.Created}, nil
	case len(parts) == 1 && parts[0] == "keys" && r.Method == http.MethodGet:
		ks, err := h.IAM.ListKeys(ctx, r.URL.Query().Get("user"))
		if err != nil {
			return nil, err
		}
		out := []Key{}
		for _, k := range ks {
			out = append(out, Key{ID: k.ID, User: k.User, Created: k.Created})
		}
		return out, nil
	case len(parts) == 2 && parts[0] == "keys" && r.Method == http.MethodDelete:
		return nil, h.IAM.RevokeKey(ctx, parts[1])
	case (parts[0] == "targets" || parts[0] == "notifications") && h.Targets != nil:
		return h.targets(r, parts, body)
	case parts[0] == "archive" && h.Archive != nil:
		return h.archive(r, parts)
	}
	return nil, fail(http.StatusNotFound, "NoSuchRoute", "No such admin API route: "+r.Method+" "+r.URL.Path)
}

// targets serves the notification target routes.
func (h *Handler) targets(r *http.Request, parts []string, body func(int64) ([]byte, error)) (any, error) {
	ctx := r.Context()
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet && parts[0] == "targets":
		return h.Targets.List(), nil
	case len(parts) == 1 && r.Method == http.MethodPost && parts[0] == "targets":
		b, err := body(64 << 10)
		if err != nil {
			return nil, err
		}
		var s target.Spec
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fail(http.StatusBadRequest, "MalformedJSON", "The body must be a target: {\"name\", \"kind\", \"url\", \"options\"}.")
		}
		if err := h.Targets.Add(ctx, s); err != nil {
			return nil, err
		}
		for _, t := range h.Targets.List() {
			if t.Name == s.Name {
				return t, nil
			}
		}
		return nil, nil
	case len(parts) == 2 && r.Method == http.MethodDelete && parts[0] == "targets":
		return nil, h.Targets.Remove(ctx, parts[1])
	case len(parts) == 3 && r.Method == http.MethodPost && parts[0] == "targets" && parts[2] == "test":
		if err := h.Targets.Test(ctx, parts[1]); err != nil {
			if errors.Is(err, dispatch.ErrNoSuchTarget) {
				return nil, err
			}
			return nil, fail(http.StatusBadGateway, "TargetFailed", err.Error())
		}
		return map[string]string{"result": "delivered"}, nil
	case len(parts) == 2 && r.Method == http.MethodGet && parts[0] == "notifications" && parts[1] == "status":
		return h.Targets.Status(ctx)
	case len(parts) == 2 && r.Method == http.MethodGet && parts[0] == "notifications" && parts[1] == "dead":
		return h.Targets.Dead(ctx, r.URL.Query().Get("target"), 1000)
	case len(parts) == 2 && r.Method == http.MethodPost && parts[0] == "notifications" && parts[1] == "requeue":
		n, err := h.Targets.Requeue(ctx, r.URL.Query().Get("target"))
		if err != nil {
			return nil, err
		}
		return map[string]int{"requeued": n}, nil
	}
	return nil, fail(http.StatusNotFound, "NoSuchRoute", "No such admin API route: "+r.Method+" "+r.URL.Path)
}

// archive serves the archive maintenance routes.
func (h *Handler) archive(r *http.Request, parts []string) (any, error) {
	ctx := r.Context()
	if len(parts) != 2 || r.Method != http.MethodPost {
		return nil, fail(http.StatusNotFound, "NoSuchRoute", "No such admin API route: "+r.Method+" "+r.URL.Path)
	}
	switch parts[1] {
	case "scrub":
		rep, err := h.Archive.Scrub(ctx)
		if err != nil {
			return nil, err
		}
		if rep.Unrecoverable == nil {
			rep.Unrecoverable = []DamagedObject{}
		}
		return rep, nil
	case "compact":
		var opt CompactOptions
		q := r.URL.Query()
		if v := q.Get("force"); v != "" {
			f, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fail(http.StatusBadRequest, "InvalidArgument", "force must be true or false.")
			}
			opt.Force = f
		}
		if v := q.Get("live-ratio"); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || !(f > 0 && f <= 1) {
				return nil, fail(http.StatusBadRequest, "InvalidArgument", "live-ratio must be a number more than 0 and at most 1.")
			}
			opt.LiveRatio = f
		}
		return h.Archive.Compact(ctx, opt)
	case "flush":
		if err := h.Archive.Flush(ctx); err != nil {
			return nil, err
		}
		return map[string]string{"result": "sealed"}, nil
	}
	return nil, fail(http.StatusNotFound, "NoSuchRoute", "No such admin API route: "+r.Method+" "+r.URL.Path)
}
