package server

import (
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"healthcode"
)

// gqlErrorBody is the GraphQL-style error document the middleware answers
// with, so clients parse every failure the same way.
type gqlErrorBody struct {
	Errors []gqlError `json:"errors"`
}

type gqlError struct {
	Message    string            `json:"message"`
	Extensions map[string]string `json:"extensions"`
}

// writeError answers with status and {"errors":[{"message":msg,"extensions":{"code":code}}]}.
// msg must be safe to show to the caller.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	h := w.Header()
	h.Del("Content-Length")
	h.Del("Content-Encoding")
	h.Del("ETag")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", retryAfter)
	}
	w.WriteHeader(status)
	body, _ := json.Marshal(gqlErrorBody{Errors: []gqlError{{
		Message:    msg,
		Extensions: map[string]string{"code": code},
	}}})
	_, _ = w.Write(append(body, '\n'))
}

// respondError answers a failed call of a service with its error, as the
// GraphQL error presenter does: the status of its domain code (statusOf) and
// the code and message in the error document. An UNAVAILABLE error (a
// dependency such as the database is unreachable) answers 503 with
// Retry-After and is logged as a warning; an error without a domain code
// answers 500 INTERNAL with a generic message and is logged as an error. Both
// go to log (nil: the default logger) with op and the request id; the cause
// is never shown to the caller. Every endpoint and middleware of this package
// answers a service's error through it.
func respondError(w http.ResponseWriter, r *http.Request, log *slog.Logger, op string, err error) {
	code := healthcode.ErrorCode(err)
	if code == healthcode.EINTERNAL || code == healthcode.EUNAVAILABLE {
		if log == nil {
			log = slog.Default()
		}
		level := slog.LevelError
		if code == healthcode.EUNAVAILABLE {
			level = slog.LevelWarn // an outage: answered 503, retryable
		}
		log.Log(r.Context(), level, op, "err", err,
			"request_id", healthcode.RequestInfoFromContext(r.Context()).RequestID)
	}
	writeError(w, statusOf(code), code, healthcode.ErrorMessage(err))
}

// writeJSON answers with status and v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	body, _ := json.Marshal(v)
	_, _ = w.Write(append(body, '\n'))
}

// statusOf maps a domain error code to an HTTP status.
func statusOf(code string) int {
	switch code {
	case healthcode.EINVALID:
		return http.StatusBadRequest
	case healthcode.ENOTFOUND:
		return http.StatusNotFound
	case healthcode.ECONFLICT:
		return http.StatusConflict
	case healthcode.EFORBIDDEN:
		return http.StatusForbidden
	case healthcode.EUNAUTHENTICATED:
		return http.StatusUnauthorized
	case healthcode.ERATELIMITED:
		return http.StatusTooManyRequests
	case healthcode.EUNAVAILABLE, healthcode.EOVERLOADED:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// acceptsHTML reports whether the Accept header lists text/html, as browsers
// navigating to a page do.
func acceptsHTML(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err == nil && mt == "text/html" {
				return true
			}
		}
	}
	return false
}

// retryAfter is the Retry-After header of a 503: healthcode.RetryAfter in
// whole seconds.
var retryAfter = strconv.Itoa(int(healthcode.RetryAfter / time.Second))

// unavailableWriter turns a 200 answer into 503 with Retry-After when the
// request's unavailable flag (healthcode.MarkUnavailable) is set by the time
// the header is written: a GraphQL response carrying an UNAVAILABLE error.
type unavailableWriter struct {
	http.ResponseWriter
	unavailable func() bool
	wrote       bool
}

func (u *unavailableWriter) WriteHeader(status int) {
	if !u.wrote {
		u.wrote = true
		if status == http.StatusOK && u.unavailable() {
			status = http.StatusServiceUnavailable
			u.Header().Set("Retry-After", retryAfter)
		}
	}
	u.ResponseWriter.WriteHeader(status)
}

func (u *unavailableWriter) Write(b []byte) (int, error) {
	if !u.wrote {
		u.WriteHeader(http.StatusOK)
	}
	return u.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flush, hijack
// for websockets).
func (u *unavailableWriter) Unwrap() http.ResponseWriter { return u.ResponseWriter }
