package notify

import "context"

// Request is who caused an event, as event messages report it.
type Request struct {
	Principal string // principal id of the requester
	SourceIP  string
	RequestID string
	HostID    string
}

type requestKey struct{}

// WithRequest returns a context carrying r, for the events of the
// changes made under it.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the Request of ctx; without one, the zero Request.
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}
