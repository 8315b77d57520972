package server

import (
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"strings"

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
	w.WriteHeader(status)
	body, _ := json.Marshal(gqlErrorBody{Errors: []gqlError{{
		Message:    msg,
		Extensions: map[string]string{"code": code},
	}}})
	_, _ = w.Write(append(body, '\n'))
}

// respondError answers a failed call of a service with its error, as the
// GraphQL error presenter does: the status of its domain code (statusOf) and
// the code and message in the error document. An error without a domain
// code answers 500 INTERNAL with a generic message and is logged on log
// (nil: the default logger) with op and the request id, never shown to the
// caller. Every endpoint and middleware of this package answers a service's
// error through it.
func respondError(w http.ResponseWriter, r *http.Request, log *slog.Logger, op string, err error) {
	code := healthcode.ErrorCode(err)
	if code == healthcode.EINTERNAL {
		if log == nil {
			log = slog.Default()
		}
		log.ErrorContext(r.Context(), op, "err", err,
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
