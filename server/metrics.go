package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"healthcode"
	"healthcode/web"
)

// maxOperationNames bounds the distinct GraphQL operation names recorded;
// later names are counted as "other". Operation names come from clients, so
// without a bound they would grow the series without limit.
const maxOperationNames = 200

// Metrics holds the platform's Prometheus metrics in a registry of its own.
// All methods are safe for concurrent use, and the Observe methods are no-ops
// on a nil *Metrics, so callers need not check.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	gqlOperations *prometheus.CounterVec
	gqlDuration   *prometheus.HistogramVec
	gqlErrors     *prometheus.CounterVec
	admission     *prometheus.CounterVec
	alerts        *prometheus.CounterVec

	mu     sync.Mutex
	opSeen map[string]struct{}
}

// NewMetrics returns metrics with the Go and process collectors and the HTTP
// and GraphQL metrics registered. Entry points call it once per process and
// pass it to Config.Metrics and to package graph.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests by method, route and status code.",
		}, []string{"method", "route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		gqlOperations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "graphql_operations_total",
			Help: "GraphQL operations by operation name and type.",
		}, []string{"operation", "type"}),
		gqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "graphql_operation_duration_seconds",
			Help:    "GraphQL operation latency by operation type.",
			Buckets: prometheus.DefBuckets,
		}, []string{"type"}),
		gqlErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "graphql_errors_total",
			Help: "GraphQL errors returned to clients by extensions.code.",
		}, []string{"code"}),
		admission: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "admission_requests_total",
			Help: "Requests by admission class and outcome (admitted at once, queued then admitted, refused with OVERLOADED).",
		}, []string{"class", "result"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alerts_total",
			Help: "Abuse alerts raised by kind (MASS_UNMASK, MASS_DESIGNATION, ...); one per burst of one account.",
		}, []string{"kind"}),
		opSeen: make(map[string]struct{}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.gqlOperations, m.gqlDuration, m.gqlErrors, m.admission, m.alerts,
	)
	return m
}

// Registry returns the underlying registry, for callers (entry points,
// workers) that register collectors of their own. Registration errors are
// the registry's.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format. The server
// mounts it at GET /metrics; a worker process may serve it itself. A
// collector that fails leaves its series out; the others are still served.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		Timeout:             8 * time.Second,
		MaxRequestsInFlight: 4,
	})
}

// ObserveAlert counts one new abuse alert of kind (alerts_total). The
// storage calls it after the alert's transaction committed (postgres.DB's
// AlertRaised). It returns nothing and never fails.
func (m *Metrics) ObserveAlert(kind healthcode.AlertKind) {
	if m == nil {
		return
	}
	m.alerts.WithLabelValues(string(kind)).Inc()
}

// ObserveOperation records one executed GraphQL operation: its name (empty
// for anonymous operations), its type ("query", "mutation" or
// "subscription") and how long it took. Package graph calls it from an
// operation interceptor. It returns nothing and never fails.
func (m *Metrics) ObserveOperation(name, typ string, d time.Duration) {
	if m == nil {
		return
	}
	typ = operationType(typ)
	m.gqlOperations.WithLabelValues(m.operationLabel(name), typ).Inc()
	m.gqlDuration.WithLabelValues(typ).Observe(d.Seconds())
}

// ObserveError records one GraphQL error returned to a client, by its
// extensions.code. Package graph calls it from its error presenter. Codes
// outside the domain codes and gqlgen's own are counted as "OTHER".
func (m *Metrics) ObserveError(code string) {
	if m == nil {
		return
	}
	m.gqlErrors.WithLabelValues(errorCodeLabel(code)).Inc()
}

// observeAdmission counts one admission decision.
func (m *Metrics) observeAdmission(class healthcode.WorkClass, result string) {
	if m == nil {
		return
	}
	m.admission.WithLabelValues(string(class), result).Inc()
}

// observeHTTP records one HTTP request.
func (m *Metrics) observeHTTP(method, path string, code int, d time.Duration) {
	if m == nil {
		return
	}
	route := routeLabel(path)
	m.httpRequests.WithLabelValues(methodLabel(method), route, strconv.Itoa(code)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

// operationLabel returns name as a label value: "anonymous" when empty,
// "invalid" when it is not a GraphQL name, "other" once the bound is reached.
func (m *Metrics) operationLabel(name string) string {
	switch {
	case name == "":
		return "anonymous"
	case !validGraphQLName(name):
		return "invalid"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.opSeen[name]; ok {
		return name
	}
	if len(m.opSeen) >= maxOperationNames {
		return "other"
	}
	m.opSeen[name] = struct{}{}
	return name
}

// validGraphQLName reports whether s is a GraphQL Name of at most 64 characters.
func validGraphQLName(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func operationType(typ string) string {
	switch t := strings.ToLower(typ); t {
	case "query", "mutation", "subscription":
		return t
	}
	return "other"
}

// knownErrorCodes are the extensions.code values recorded as such.
var knownErrorCodes = map[string]bool{
	healthcode.EINVALID: true, healthcode.ENOTFOUND: true, healthcode.ECONFLICT: true,
	healthcode.EFORBIDDEN: true, healthcode.EUNAUTHENTICATED: true, healthcode.ERATELIMITED: true,
	healthcode.EINTERNAL: true,
	// gqlgen's own codes.
	"GRAPHQL_PARSE_FAILED": true, "GRAPHQL_VALIDATION_FAILED": true, "PERSISTED_QUERY_NOT_FOUND": true,
	"PERSISTED_QUERY_NOT_SUPPORTED": true, "COMPLEXITY_LIMIT_EXCEEDED": true,
}

func errorCodeLabel(code string) string {
	if knownErrorCodes[code] {
		return code
	}
	return "OTHER"
}

func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return method
	}
	return "OTHER"
}

// routeLabel maps a request path to one of a fixed set of routes, so that
// raw paths never become label values.
func routeLabel(path string) string {
	switch {
	case path == "/graphql", path == "/healthz", path == "/readyz", path == "/metrics":
		return path
	case strings.HasPrefix(path, "/.well-known/"):
		return "/.well-known/*"
	case web.Has(path):
		return "static"
	}
	return "other"
}

// register registers c, wrapping the registry's error with what.
func (m *Metrics) register(what string, c prometheus.Collector) error {
	if err := m.reg.Register(c); err != nil {
		return fmt.Errorf("register %s metrics: %w", what, err)
	}
	return nil
}
