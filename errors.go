// Package healthcode holds the domain of the Shaanxi health code platform: its
// types, the service interfaces that storage implements, the error codes every
// entry point maps to its transport, and the context helpers that carry the
// authenticated caller. It depends on the standard library only.
package healthcode

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// Error codes. Every error that leaves a service carries one of them; the
// GraphQL layer exposes it as extensions.code, the CLI prints it.
const (
	EINVALID         = "INVALID"         // bad input; the message says what and how to fix it
	ENOTFOUND        = "NOT_FOUND"       // the object does not exist (or is outside the caller's reach)
	ECONFLICT        = "CONFLICT"        // a uniqueness or state conflict
	EFORBIDDEN       = "FORBIDDEN"       // authenticated but not allowed
	EUNAUTHENTICATED = "UNAUTHENTICATED" // no valid credentials
	ERATELIMITED     = "RATE_LIMITED"    // too many attempts; try later
	EUNAVAILABLE     = "UNAVAILABLE"     // a dependency (the database, the queue) cannot be reached now; retry later (HTTP 503, Retry-After)
	EOVERLOADED      = "OVERLOADED"      // the replica sheds load (admission control); retry later (HTTP 503, Retry-After)
	EINTERNAL        = "INTERNAL"        // anything else; the message is never shown
)

// Error is the domain error: a code from the list above and a message that is
// safe to show to the caller (in Chinese where a resident reads it).
type Error struct {
	Code    string
	Message string
	// RetryAfter, when positive, is how long a RATE_LIMITED caller should
	// wait; the GraphQL layer gives it as extensions.retryAfter (seconds).
	RetryAfter time.Duration
}

// RateLimited returns a RATE_LIMITED error that asks the caller to retry
// after d (at least one second), with the wait in the message. Any caller
// may use it.
func RateLimited(d time.Duration) *Error {
	secs := int64((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return &Error{Code: ERATELIMITED, Message: fmt.Sprintf("操作过于频繁，请 %d 秒后再试", secs),
		RetryAfter: time.Duration(secs) * time.Second}
}

// ErrBusy is the RATE_LIMITED error of a replica with too many password
// checks queued (a login flood): retry in a second. Admission control's
// refusal is ErrOverloaded (overload.go).
var ErrBusy = &Error{Code: ERATELIMITED, Message: "系统繁忙，请稍后再试", RetryAfter: time.Second}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("healthcode error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns a domain error with the given code and formatted message.
// Any caller may use it.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first domain error in err's chain,
// EUNAVAILABLE for an error that says a dependency cannot be reached
// (Unavailable), EINTERNAL for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	} else if Unavailable(err) {
		return EUNAVAILABLE
	}
	return EINTERNAL
}

// ErrUnavailable is the error of a dependency that cannot be reached now.
var ErrUnavailable = &Error{Code: EUNAVAILABLE, Message: "服务暂时不可用，请稍后重试"}

// ErrorMessage returns the user-facing message of the first domain error in
// err's chain, or a generic message for unavailable dependencies and
// internal errors. It never returns internal error text.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	} else if Unavailable(err) {
		return ErrUnavailable.Message
	}
	return "服务内部错误，请稍后重试"
}

// Unavailable reports whether err says that a dependency cannot be reached
// for now, so that retrying later may succeed: a domain error with code
// UNAVAILABLE; a network error (refused, reset, timed out, cut off); or a
// database error whose SQLSTATE is a connection exception (class 08), an
// operator intervention (57P01–57P03: shutting down, restarting, starting up)
// or too many connections (53300), or that the driver marks safe to retry.
// It inspects the error chain through standard interfaces only, so any
// caller may use it. Errors: none.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code == EUNAVAILABLE
	}
	var sqlState interface{ SQLState() string }
	if errors.As(err, &sqlState) {
		switch code := sqlState.SQLState(); {
		case len(code) == 5 && code[:2] == "08", code == "57P01", code == "57P02", code == "57P03", code == "53300":
			return true
		}
	}
	var retry interface{ SafeToRetry() bool }
	if errors.As(err, &retry) && retry.SafeToRetry() {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF)
}

// Common errors shared by several services.
var (
	// ErrUnauthenticated is returned when a call needs a logged-in caller.
	ErrUnauthenticated = &Error{Code: EUNAUTHENTICATED, Message: "请先登录"}
	// ErrForbidden is returned when the caller lacks the permission in the region.
	ErrForbidden = &Error{Code: EFORBIDDEN, Message: "无权在该辖区执行此操作"}
)
