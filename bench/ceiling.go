package bench

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"healthcode/credential"
)

// Ceiling is the code page's ceiling: a minimal net/http handler doing what
// the page needs and nothing else — the resident session looked up by its
// token's hash, the code and the person's code id and masked name read in one
// statement, and an electronic token signed with Ed25519 — answering the
// colour and the token as JSON. It checks no GraphQL, no limits and no
// middleware; a benchmark compares the platform's code page against it.
func Ceiling(pool *pgxpool.Pool, signer *credential.Signer, issuer string, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		hash := sha256.Sum256([]byte(token))
		ctx := r.Context()
		t := now()
		var accountID int64
		if err := pool.QueryRow(ctx, `SELECT resident_id FROM sessions WHERE token_hash = $1 AND kind = 'RESIDENT'
			AND revoked_at IS NULL AND expires_at > $2`, hash[:], t).Scan(&accountID); err != nil {
			http.Error(w, "unauthenticated", http.StatusUnauthorized)
			return
		}
		var colour, codeID, name string
		if err := pool.QueryRow(ctx, `SELECT c.colour, p.code_id, p.name_masked FROM account_persons ap
			JOIN persons p ON p.id = ap.person_id JOIN codes c ON c.person_id = ap.person_id
			WHERE ap.account_id = $1 AND ap.relation = 'SELF'`, accountID).Scan(&colour, &codeID, &name); err != nil {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		iat := t.UTC().Truncate(time.Second)
		tok, err := signer.Sign(credential.Claims{Issuer: issuer, CodeID: codeID, Colour: colour, MaskedName: name,
			Kind: credential.KindElectronic, IssuedAt: iat, ExpiresAt: iat.Add(5 * time.Minute)})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"colour": colour, "token": tok}})
	})
}
