package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"healthcode/exchange"
)

// runNationalStub runs the development receiver of the national push:
// `healthcode national-stub --addr 127.0.0.1:9090 --public-key-file
// keys/national.pub [--fail N] [--delay 2s]`. Point NATIONAL_PUSH_URL at it.
func runNationalStub(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("national-stub", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9090", "listen address")
	pubFile := fs.String("public-key-file", "", "the platform's national.pub (base64 Ed25519 public key)")
	fail := fs.Int("fail", 0, "fail the first N requests with 503")
	delay := fs.Duration("delay", 0, "answer each request after this delay")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pubFile == "" {
		return errors.New("usage: healthcode national-stub --public-key-file keys/national.pub [--addr host:port] [--fail N] [--delay d]")
	}
	b, err := os.ReadFile(*pubFile)
	if err != nil {
		return err
	}
	pub, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%s: want a base64 Ed25519 public key", *pubFile)
	}
	stub := exchange.NewStub(ed25519.PublicKey(pub))
	stub.FailNext(*fail)
	stub.Delay = *delay
	srv := &http.Server{Addr: *addr, Handler: stub, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	fmt.Printf("national platform stub listening on http://%s/\n", *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
