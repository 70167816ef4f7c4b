package s3api

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/firnhq/firn/internal/notify"
	"github.com/firnhq/firn/internal/object"
)

// putBucketNotification answers PutBucketNotificationConfiguration.
func (h *Handler) putBucketNotification(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	body, err := readConfigBody(rq, true)
	if err != nil {
		return err
	}
	skip := strings.EqualFold(rq.r.Header.Get("x-amz-skip-destination-validation"), "true")
	if err := h.svc.PutBucketNotification(rq.r.Context(), rq.bucket, body, skip); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// getBucketNotification answers GetBucketNotificationConfiguration.
func (h *Handler) getBucketNotification(rq *request) error {
	if _, err := h.bucketOf(rq); err != nil {
		return err
	}
	cfg, err := h.svc.GetBucketNotification(rq.r.Context(), rq.bucket)
	if err != nil {
		return err
	}
	rq.w.Header().Set("Content-Type", "application/xml")
	rq.w.WriteHeader(http.StatusOK)
	_, err = rq.w.Write(cfg.Marshal())
	return err
}

// readConfigBody reads a configuration document of at most maxXMLBody
// bytes (more is MalformedXML) and checks it against its Content-MD5
// and, if checksums, its x-amz-checksum-* value.
func readConfigBody(rq *request, checksums bool) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(rq.body(), maxXMLBody+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxXMLBody {
		return nil, errMalformedXML
	}
	if err := checkBodyIntegrity(rq, body, checksums); err != nil {
		return nil, err
	}
	return body, nil
}

// notificationError maps a refused notification configuration.
func notificationError(err error) (*APIError, bool) {
	var ne *object.NotificationError
	if !errors.As(err, &ne) {
		return nil, false
	}
	if ne.Code == "MalformedXML" {
		return errMalformedXML, true
	}
	return &APIError{ne.Code, ne.Msg, http.StatusBadRequest, nil}, true
}

// eventRequest is who made rq, for the events of its changes.
func eventRequest(rq *request) notify.Request {
	ip := rq.r.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	return notify.Request{Principal: rq.user, SourceIP: ip, RequestID: rq.id, HostID: hostID(rq.id)}
}
