package sms_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"healthcode"
	"healthcode/sms"
)

var testMsg = healthcode.SMSMessage{Phone: "13800138000", Text: "您的验证码是 123456", Key: "outbox:7"}

func newSender(t *testing.T, h http.HandlerFunc, timeout time.Duration) *sms.GatewaySender {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s, err := sms.New(sms.Config{URL: srv.URL + "/send", Token: "secret", Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSendPostsJSONWithToken(t *testing.T) {
	t.Parallel()
	var got map[string]string
	var auth, ctype, path string
	s := newSender(t, func(w http.ResponseWriter, r *http.Request) {
		auth, ctype, path = r.Header.Get("Authorization"), r.Header.Get("Content-Type"), r.URL.Path
		if r.Method != http.MethodPost {
			t.Errorf("method %s", r.Method)
		}
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Error(err)
		}
		w.WriteHeader(http.StatusAccepted)
	}, 0)
	if err := s.Send(t.Context(), testMsg); err != nil {
		t.Fatal(err)
	}
	if auth != "Bearer secret" || ctype != "application/json" || path != "/send" {
		t.Fatalf("auth %q, content type %q, path %q", auth, ctype, path)
	}
	want := map[string]string{"phone": testMsg.Phone, "text": testMsg.Text, "requestId": "outbox:7"}
	if len(got) != len(want) {
		t.Fatalf("body %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("body %v, want %v", got, want)
		}
	}
}

func TestSendStatusMapping(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status   int
		ok       bool
		rejected bool
	}{
		{200, true, false},
		{204, true, false},
		{400, false, true},
		{401, false, true},
		{403, false, true},
		{422, false, true},
		{408, false, false},
		{429, false, false},
		{500, false, false},
		{503, false, false},
	} {
		s := newSender(t, func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "invalid phone 13800138000", tc.status)
		}, 0)
		err := s.Send(t.Context(), testMsg)
		if (err == nil) != tc.ok {
			t.Errorf("status %d: err = %v", tc.status, err)
			continue
		}
		if errors.Is(err, sms.ErrRejected) != tc.rejected {
			t.Errorf("status %d: rejected = %v, want %v (%v)", tc.status, !tc.rejected, tc.rejected, err)
		}
		if err != nil && (strings.Contains(err.Error(), testMsg.Phone) || strings.Contains(err.Error(), testMsg.Text)) {
			t.Errorf("status %d: error leaks personal data: %v", tc.status, err)
		}
	}
}

func TestSendTimeoutAndCancel(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	slow := func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
	s := newSender(t, slow, 100*time.Millisecond)
	start := time.Now()
	err := s.Send(t.Context(), testMsg)
	if err == nil || errors.Is(err, sms.ErrRejected) || time.Since(start) > 3*time.Second {
		t.Fatalf("timeout: err = %v after %v", err, time.Since(start))
	}

	s = newSender(t, slow, time.Minute)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err = s.Send(ctx, testMsg)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancel: err = %v", err)
	}
}

func TestSendRejectsEmptyMessage(t *testing.T) {
	t.Parallel()
	s := newSender(t, func(w http.ResponseWriter, r *http.Request) {
		t.Error("gateway called")
	}, 0)
	if err := s.Send(t.Context(), healthcode.SMSMessage{Text: "x"}); !errors.Is(err, sms.ErrRejected) {
		t.Fatalf("err = %v", err)
	}
}

func TestNewValidatesURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "gateway.example", "ftp://x/y", "http://"} {
		if _, err := sms.New(sms.Config{URL: u}); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}
