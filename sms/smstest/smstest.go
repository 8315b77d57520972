// Package smstest is a stand-in for the operator's SMS gateway, for tests and
// the fault tests: a real HTTP server speaking the protocol of package sms
// (POST {"phone","text","requestId"} with an Idempotency-Key header) that
// logs every request with its key, delivers each key once (a repeated key is
// answered 200 and not delivered again, as the real gateway promises), and
// can be slowed down or made to fail.
package smstest

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"time"
)

// Request is one request the gateway received.
type Request struct {
	Key   string
	Phone string
	Text  string
	At    time.Time
	// Repeat is true when the key had been delivered before.
	Repeat bool
}

// Gateway is the stand-in. Set its fields before Start; it is safe for
// concurrent use.
type Gateway struct {
	// Latency is how long each request takes.
	Latency time.Duration
	// Hold, when not nil, is called by each request before it answers
	// (after Latency); tests block in it.
	Hold func(r Request)

	mu        sync.Mutex
	log       []Request
	delivered map[string]int
	inFlight  int
	maxFlight int
	srv       *http.Server
	url       string
}

// Start serves on a free loopback port until ctx is done or Close. It
// returns the URL to give sms.Config (SMS_GATEWAY_URL).
func (g *Gateway) Start(ctx context.Context) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	g.mu.Lock()
	g.delivered = map[string]int{}
	g.srv = &http.Server{Handler: g, ReadHeaderTimeout: 5 * time.Second}
	g.url = "http://" + ln.Addr().String() + "/send"
	g.mu.Unlock()
	go func() { _ = g.srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		g.Close()
	}()
	return g.url, nil
}

// Close stops the server.
func (g *Gateway) Close() {
	g.mu.Lock()
	srv := g.srv
	g.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// ServeHTTP implements the gateway's send endpoint.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Phone     string `json:"phone"`
		Text      string `json:"text"`
		RequestID string `json:"requestId"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&body) != nil || body.Phone == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		key = body.RequestID
	}
	g.mu.Lock()
	g.inFlight++
	g.maxFlight = max(g.maxFlight, g.inFlight)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight--
		g.mu.Unlock()
	}()
	if g.Latency > 0 {
		time.Sleep(g.Latency)
	}
	req := Request{Key: key, Phone: body.Phone, Text: body.Text, At: time.Now()}
	if g.Hold != nil {
		g.Hold(req)
	}
	g.mu.Lock()
	req.Repeat = g.delivered[key] > 0
	g.delivered[key]++
	g.log = append(g.log, req)
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}

// Requests returns every request answered so far, in order.
func (g *Gateway) Requests() []Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Request(nil), g.log...)
}

// Delivered returns how many requests each idempotency key got; a message
// is delivered once however many it got.
func (g *Gateway) Delivered() map[string]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string]int, len(g.delivered))
	for k, n := range g.delivered {
		out[k] = n
	}
	return out
}

// MaxInFlight returns the most requests the gateway handled at once.
func (g *Gateway) MaxInFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.maxFlight
}
