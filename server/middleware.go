package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"healthcode"

	"healthcode/credential"
)

// User-facing messages of the errors the middleware answers itself.
const (
	msgInternal        = "服务内部错误，请稍后重试"
	msgBodyTooLarge    = "请求体过大"
	msgUnauthenticated = "登录已失效，请重新登录"

	msgGraphQLContentType = "Content-Type 应为 application/json"
	msgGraphQLMethod      = "仅支持 GET 与 POST 请求"
)

// requestIDHeader carries the request id in both directions.
const requestIDHeader = "X-Request-ID"

// statusWriter records the status and size of a response. It is created once
// per request by the outermost middleware and shared by the inner ones.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

// wrap returns w as a statusWriter, reusing it when it already is one.
func wrap(w http.ResponseWriter) *statusWriter {
	if sw, ok := w.(*statusWriter); ok {
		return sw
	}
	return &statusWriter{ResponseWriter: w}
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush, deadlines and hijacking.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush supports streaming responses (e.g. GraphQL incremental delivery).
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// written reports whether the response header has gone out.
func (w *statusWriter) written() bool { return w.status != 0 }

// code is the status to report: the one written, 200 for a handler that
// wrote nothing, or 500 when the handler panicked before writing.
func (w *statusWriter) code(panicked bool) int {
	switch {
	case w.status != 0:
		return w.status
	case panicked:
		return http.StatusInternalServerError
	}
	return http.StatusOK
}

// recoverPanics turns a panic into a 500 with a coded JSON error, and logs the
// panic value and stack. The panic text never reaches the client.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := wrap(w)
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p) // net/http aborts the response silently
			}
			s.log.LogAttrs(r.Context(), slog.LevelError, "panic serving http request",
				slog.String("request_id", sw.Header().Get(requestIDHeader)),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("panic", fmt.Sprint(p)),
				slog.String("stack", string(debug.Stack())),
			)
			if sw.written() {
				// Too late for a clean error: make the client see a broken response.
				panic(http.ErrAbortHandler)
			}
			writeError(sw, http.StatusInternalServerError, healthcode.EINTERNAL, msgInternal)
		}()
		next.ServeHTTP(sw, r)
	})
}

// requestID adopts the client's X-Request-ID when it is 1–64 characters of
// [A-Za-z0-9-], or makes a new one, and echoes it in the response.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(requestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		r.Header.Set(requestIDHeader, id)
		w.Header().Set(requestIDHeader, id)
		next.ServeHTTP(w, r)
	})
}

func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// requestInfo puts the client address and request id in the context.
func (s *Server) requestInfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := healthcode.RequestInfo{
			ClientAddr: s.clientAddr(r),
			RequestID:  r.Header.Get(requestIDHeader),
		}
		next.ServeHTTP(w, r.WithContext(healthcode.NewContextWithRequestInfo(r.Context(), info)))
	})
}

// clientAddr returns the caller's IP address: the peer, or an
// X-Forwarded-For entry when the configuration trusts it.
func (s *Server) clientAddr(r *http.Request) string {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	xff := forwardedFor(r)
	switch {
	case len(xff) == 0:
		return peer
	case s.cfg.TrustForwardedFor:
		if a, err := netip.ParseAddr(xff[0]); err == nil {
			return a.Unmap().String()
		}
		return peer
	case len(s.cfg.TrustedProxies) > 0:
		pa, err := netip.ParseAddr(peer)
		if err != nil || !s.trusted(pa) {
			return peer
		}
		// Walk from the nearest hop outwards; the first address that is
		// not one of our proxies is the client.
		client := peer
		for i := len(xff) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(xff[i])
			if err != nil {
				break
			}
			client = a.Unmap().String()
			if !s.trusted(a) {
				break
			}
		}
		return client
	}
	return peer
}

func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor returns the X-Forwarded-For entries in order, over all
// instances of the header.
func forwardedFor(r *http.Request) []string {
	var out []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// contentSecurityPolicy allows only same-origin resources, plus data: images
// (QR codes, evidence previews) and data: fonts (the icon font of the Vant
// components is inlined in their stylesheet), and the one inline style sheet
// of a printed paper code or pass card (the console shows it in a frame,
// which inherits this policy). The GraphiQL page goes without it and sets its
// own.
var contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' " + credential.PrintStyleSource + "; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// scannerContentSecurityPolicy is the policy of the checkpoint scanner's
// pages (/scan/): the same, plus 'wasm-unsafe-eval', which lets the page
// compile the QR decoder's WebAssembly (shipped with the app; used where the
// browser has no BarcodeDetector). It allows no eval of JavaScript.
const scannerContentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; font-src 'self' data:; media-src 'self' blob:; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets headers that harden every response. Responses are not
// cached unless the handler says otherwise (the web handler does).
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		switch {
		case s.isPlayground(r):
		case r.URL.Path == "/scan" || strings.HasPrefix(r.URL.Path, "/scan/"):
			h.Set("Content-Security-Policy", scannerContentSecurityPolicy)
		default:
			h.Set("Content-Security-Policy", contentSecurityPolicy)
		}
		next.ServeHTTP(w, r)
	})
}

// accessLog writes one structured line per request. It logs neither headers
// nor bodies nor the query string (GraphQL GET requests carry variables).
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := wrap(w)
		start := time.Now()
		panicked := true
		defer func() {
			level := slog.LevelInfo
			if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
				level = slog.LevelDebug
			}
			code := sw.code(panicked)
			if code >= 500 {
				level = slog.LevelWarn
			}
			s.log.LogAttrs(r.Context(), level, "http request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", code),
				slog.Int64("bytes", sw.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", r.Header.Get(requestIDHeader)),
				slog.String("client", healthcode.RequestInfoFromContext(r.Context()).ClientAddr),
			)
		}()
		next.ServeHTTP(sw, r)
		panicked = false
	})
}

// measure records http_requests_total and http_request_duration_seconds.
func (s *Server) measure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := wrap(w)
		start := time.Now()
		panicked := true
		defer func() {
			s.metrics.observeHTTP(r.Method, r.URL.Path, sw.code(panicked), time.Since(start))
		}()
		next.ServeHTTP(sw, r)
		panicked = false
	})
}

// limitBody rejects bodies declared larger than the limit with 413 and caps
// the others with http.MaxBytesReader.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBodyBytes {
			// Let net/http close the connection instead of draining the body.
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusRequestEntityTooLarge, healthcode.EINVALID, msgBodyTooLarge)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate resolves "Authorization: Bearer <token>" to an actor in the
// context. Without the header the request goes on anonymously and the
// services decide; a bad token answers 401, a failing Authenticator 500.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if header == "" {
			next.ServeHTTP(w, r)
			return
		}
		token, ok := bearerToken(header)
		if !ok {
			unauthenticated(w)
			return
		}
		actor, err := s.cfg.Auth.Authenticate(r.Context(), token)
		switch {
		case err == nil && actor != nil:
			next.ServeHTTP(w, r.WithContext(healthcode.NewContextWithActor(r.Context(), actor)))
		case err == nil || healthcode.ErrorCode(err) == healthcode.EUNAUTHENTICATED:
			unauthenticated(w)
		default:
			respondError(w, r, s.log, "authenticate request", err)
		}
	})
}

// bearerToken extracts the token of a "Bearer <token>" header value; the
// scheme is case-insensitive (RFC 9110).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func unauthenticated(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	writeError(w, http.StatusUnauthorized, healthcode.EUNAUTHENTICATED, msgUnauthenticated)
}
