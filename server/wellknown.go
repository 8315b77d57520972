package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"

	"healthcode/credential"
)

// KeySource provides the documents scanners cache for offline verification;
// postgres.CredentialService implements it.
type KeySource interface {
	KeySet(ctx context.Context) (credential.KeySet, error)
	RevocationList(ctx context.Context) (*credential.RevocationList, error)
}

// KeySetHandler serves /.well-known/healthcode/keys.json: our published keys
// and the trusted issuers with theirs, with an ETag so scanners revalidate
// cheaply (If-None-Match → 304).
func KeySetHandler(src KeySource) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks, err := src.KeySet(r.Context())
		if err != nil {
			respondError(w, r, nil, "key set", err)
			return
		}
		serveCached(w, r, ks.ETag(), 300, ks)
	})
}

// RevocationsHandler serves /.well-known/healthcode/revocations.json: paper
// codes and pass cards revoked and not yet expired, with an ETag.
func RevocationsHandler(src KeySource) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rl, err := src.RevocationList(r.Context())
		if err != nil {
			respondError(w, r, nil, "revocation list", err)
			return
		}
		serveCached(w, r, rl.ETag(), 60, rl)
	})
}

func serveCached(w http.ResponseWriter, r *http.Request, etag string, maxAge int, v any) {
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(maxAge)+", must-revalidate")
	if match := r.Header.Get("If-None-Match"); match != "" && match == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// AuditAnchorsHandler serves /.well-known/healthcode/audit-checkpoints.json:
// the signed anchors of the audit chain (postgres.AuditAnchors.Published),
// which auditors fetch and keep, so that a rewrite of the database's audit
// log can be shown against them. published returns the JSON document.
func AuditAnchorsHandler(published func(ctx context.Context) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, err := published(r.Context())
		if err != nil {
			respondError(w, r, nil, "audit anchors", err)
			return
		}
		b, _ := json.Marshal(doc)
		serveCached(w, r, etagOf(b), 60, json.RawMessage(b))
	})
}

// etagOf is a strong ETag of a document's bytes.
func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
}
