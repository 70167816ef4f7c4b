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
	body, err := io.ReadAll(io.LimitReader(rq.body(), maxXMLBody+1))
	if err != nil {
		return err
	}
	if len(body) > maxXMLBody {
		return errMalformedXML
	}
	if err := checkBodyIntegrity(rq, body, false); err != nil {
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
