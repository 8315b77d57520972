// Package sms delivers text messages through the operator's HTTP SMS
// gateway. GatewaySender implements healthcode.SMSSender; the worker's
// notify:sms handler calls it inside postgres.DB.DeliverOnce.
package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"healthcode"
)

// ErrRejected is wrapped by Send errors that retrying cannot fix: the gateway
// answered 4xx (other than 408 and 429), e.g. an invalid phone or a bad token.
// Callers test it with errors.Is and stop retrying.
var ErrRejected = errors.New("sms gateway rejected the message")

// Config configures a GatewaySender.
type Config struct {
	// URL is the gateway's send endpoint (required, http or https).
	URL string
	// Token is sent as "Authorization: Bearer <Token>" when not empty.
	Token string
	// Timeout bounds one request (default 10 s).
	Timeout time.Duration
	// Client is the HTTP client (default: a new client with Timeout).
	Client *http.Client
}

// GatewaySender sends messages to the SMS gateway over HTTP: one POST of
// {"phone","text","requestId"} per message, where requestId is the
// message's Key so that the gateway drops a repeated delivery. It is safe for
// concurrent use.
type GatewaySender struct {
	url    string
	token  string
	client *http.Client
}

var _ healthcode.SMSSender = (*GatewaySender)(nil)

// New returns a GatewaySender for cfg. The binary's wiring calls it.
// Errors: a missing or malformed URL.
func New(cfg Config) (*GatewaySender, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("sms gateway url %q: must be an http(s) url", cfg.URL)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: timeout}
	}
	return &GatewaySender{url: u.String(), token: cfg.Token, client: client}, nil
}

type request struct {
	Phone     string `json:"phone"`
	Text      string `json:"text"`
	RequestID string `json:"requestId"`
}

// Send posts msg to the gateway and returns nil on a 2xx answer. Errors: a
// network error, a timeout, ctx's error or a 5xx/408/429 answer (retryable);
// any other 4xx answer or a message without phone or text wraps ErrRejected.
// Error texts never contain the phone or the text.
func (s *GatewaySender) Send(ctx context.Context, msg healthcode.SMSMessage) error {
	if msg.Phone == "" || msg.Text == "" {
		return fmt.Errorf("sms %s: empty phone or text: %w", msg.Key, ErrRejected)
	}
	body, err := json.Marshal(request{Phone: msg.Phone, Text: msg.Text, RequestID: msg.Key})
	if err != nil {
		return fmt.Errorf("encode sms %s: %w", msg.Key, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build sms request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	if msg.Key != "" {
		req.Header.Set("Idempotency-Key", msg.Key)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		// *url.Error repeats the URL, which holds no personal data.
		return fmt.Errorf("send sms %s: %w", msg.Key, err)
	}
	defer resp.Body.Close()
	// The body is not quoted in errors: a gateway may echo the phone.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
		return fmt.Errorf("send sms %s: gateway status %d: %w", msg.Key, code, ErrRejected)
	default:
		return fmt.Errorf("send sms %s: gateway status %d", msg.Key, code)
	}
}
