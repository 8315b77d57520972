package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/credential"
)

// DefaultElectronicTTL is how long an electronic code's token is valid; the
// code page refreshes it before it expires.
const DefaultElectronicTTL = 5 * time.Minute

// CredentialService implements healthcode.CredentialService: it signs tokens
// with the platform's key ring, prints paper codes and pass cards, and
// verifies tokens against the published key set and revocation list.
type CredentialService struct {
	DB    *DB
	Codes *CodeService
	Ring  *credential.KeyRing
	// Trusted are the other issuers whose tokens are recognised (互信互认)
	// by configuration; TrustList adds those of the trust list in the
	// database (CheckpointService.TrustedIssuers).
	Trusted       []credential.TrustedIssuerKeys
	TrustList     func(ctx context.Context) ([]credential.TrustedIssuerKeys, error)
	ElectronicTTL time.Duration

	mu       sync.Mutex
	signer   *credential.Signer
	verifier *credential.Verifier
	builtAt  time.Time
	revState string // the latest revocation and trust-list change the verifier knows
	// tokens are the electronic tokens signed lately, reused while more than
	// half of their lifetime is left (freshToken).
	tokens map[tokenKey]*healthcode.Credential
}

var _ healthcode.CredentialService = (*CredentialService)(nil)

func (s *CredentialService) sign(c credential.Claims) (string, error) {
	s.mu.Lock()
	if s.signer == nil {
		signer, err := credential.NewSigner(s.Ring)
		if err != nil {
			s.mu.Unlock()
			return "", err
		}
		s.signer = signer
	}
	signer := s.signer
	s.mu.Unlock()
	return signer.Sign(c)
}

// KeySet returns the document served at /.well-known/healthcode/keys.json:
// our published keys, the configured trusted issuers and those of the trust
// list kept in the database (managed by the province admin).
func (s *CredentialService) KeySet(ctx context.Context) (credential.KeySet, error) {
	trusted := s.Trusted
	if s.TrustList != nil {
		more, err := s.TrustList(ctx)
		if err != nil {
			return credential.KeySet{}, fmt.Errorf("load trust list: %w", err)
		}
		trusted = append(append([]credential.TrustedIssuerKeys(nil), trusted...), more...)
	}
	return credential.BuildKeySet(s.Ring, trusted, s.DB.now()), nil
}

// RevocationList returns the document served at
// /.well-known/healthcode/revocations.json: printed codes revoked and not
// yet expired.
func (s *CredentialService) RevocationList(ctx context.Context) (*credential.RevocationList, error) {
	now := s.DB.now()
	rows, err := s.DB.Pool.Query(ctx, `SELECT token_id, revoked_at, revoke_reason FROM printed_codes
		WHERE revoked_at IS NOT NULL AND expires_at > $1 ORDER BY revoked_at, id`, now.Add(-credential.DefaultSkew))
	if err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	rl := &credential.RevocationList{GeneratedAt: now.UTC().Truncate(time.Second), Entries: []credential.Revoked{}}
	entries, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (credential.Revoked, error) {
		r := credential.Revoked{Issuer: s.Ring.Issuer()}
		err := row.Scan(&r.TokenID, &r.RevokedAt, &r.Reason)
		return r, err
	})
	if err != nil {
		return nil, err
	}
	rl.Entries = append(rl.Entries, entries...)
	return rl, nil
}

// verifierStateSQL answers a text that changes with every revocation and
// every change of the trust list.
const verifierStateSQL = `SELECT COALESCE((SELECT max(revoked_at) FROM printed_codes WHERE revoked_at IS NOT NULL)::text, '')
	|| '|' || (SELECT count(*) || '/' || COALESCE(max(GREATEST(created_at, retired_at))::text, '') FROM trusted_issuers)`

// currentVerifier returns a verifier over the current key set and
// revocation list. One cheap query tells whether a revocation or a trust-list
// change happened since it was built (then it is rebuilt at once); the key
// set is rebuilt at least every minute.
func (s *CredentialService) currentVerifier(ctx context.Context) (*credential.Verifier, error) {
	var state string
	if err := s.DB.Pool.QueryRow(ctx, verifierStateSQL).Scan(&state); err != nil {
		return nil, fmt.Errorf("revocation state: %w", err)
	}
	return s.verifierAt(ctx, state)
}

// cachedVerifier returns the verifier built less than a minute ago and the
// state (verifierStateSQL) it was built at, or nil.
func (s *CredentialService) cachedVerifier() (*credential.Verifier, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.verifier == nil || time.Since(s.builtAt) >= time.Minute {
		return nil, ""
	}
	return s.verifier, s.revState
}

// verifierAt returns the verifier for the state just read: the cached one
// when it was built at that state less than a minute ago, else a new one.
func (s *CredentialService) verifierAt(ctx context.Context, state string) (*credential.Verifier, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.verifier != nil && state == s.revState && time.Since(s.builtAt) < time.Minute {
		return s.verifier, nil
	}
	ks, err := s.KeySet(ctx)
	if err != nil {
		return nil, err
	}
	rl, err := s.RevocationList(ctx)
	if err != nil {
		return nil, err
	}
	v, err := credential.NewVerifier(&ks, rl)
	if err != nil {
		return nil, err
	}
	s.verifier, s.builtAt, s.revState = v, time.Now(), state
	return v, nil
}

// InvalidateVerifier makes the next verification rebuild the key set and
// revocation list (after a revocation or a key rotation).
func (s *CredentialService) InvalidateVerifier() {
	s.mu.Lock()
	s.verifier = nil
	s.mu.Unlock()
}

func (s *CredentialService) ttl() time.Duration {
	if s.ElectronicTTL > 0 {
		return s.ElectronicTTL
	}
	return DefaultElectronicTTL
}

// ElectronicToken implements healthcode.CredentialService.
func (s *CredentialService) ElectronicToken(ctx context.Context, personID int64) (*healthcode.Credential, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	oc, err := s.DB.ownCode(ctx, a, personID)
	if err != nil {
		return nil, err
	}
	now := s.DB.now().UTC().Truncate(time.Second)
	key := tokenKey{codeID: oc.codeID, colour: oc.code.Colour, masked: oc.masked, kid: s.Ring.Active().Kid}
	if c := s.freshToken(key, now); c != nil {
		return c, nil
	}
	c := &healthcode.Credential{Kind: healthcode.CredentialElectronic, Colour: oc.code.Colour, MaskedName: oc.masked,
		IssuedAt: now, ExpiresAt: now.Add(s.ttl())}
	c.Token, err = s.sign(credential.Claims{Issuer: s.Ring.Issuer(), CodeID: oc.codeID, Colour: string(oc.code.Colour),
		MaskedName: oc.masked, Kind: credential.KindElectronic, IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt})
	if err != nil {
		return nil, err
	}
	s.keepToken(key, c)
	return c, nil
}

// tokenKey is what an electronic token says besides its times: a token is
// reused only for the same code id, colour, masked name and signing key.
type tokenKey struct {
	codeID string
	colour healthcode.Colour
	masked string
	kid    string
}

// maxTokenCache bounds the tokens kept for reuse; the cache is emptied when
// it is full (one signature per resident to refill it).
const maxTokenCache = 200_000

// freshToken returns the token signed for key while more than half of its
// lifetime is left at now, or nil.
func (s *CredentialService) freshToken(key tokenKey, now time.Time) *healthcode.Credential {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.tokens[key]
	if c == nil || now.Before(c.IssuedAt) || now.Sub(c.IssuedAt) > c.ExpiresAt.Sub(c.IssuedAt)/2 {
		return nil
	}
	return c
}

// keepToken keeps c for reuse by freshToken.
func (s *CredentialService) keepToken(key tokenKey, c *healthcode.Credential) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens == nil || len(s.tokens) >= maxTokenCache {
		s.tokens = map[tokenKey]*healthcode.Credential{}
	}
	s.tokens[key] = c
}

// printCode signs a 14-day printed credential for a person inside tx and
// records it; the person's earlier printed codes of the same kind are
// revoked as superseded.
func (s *CredentialService) printCode(ctx context.Context, tx *Tx, pid int64, kind string, colour healthcode.Colour) (*healthcode.Credential, error) {
	var codeID, name string
	if err := tx.QueryRow(ctx, "SELECT code_id, name_masked FROM persons WHERE id = $1", pid).Scan(&codeID, &name); err != nil {
		return nil, mapError(err, "人员不存在")
	}
	if _, err := tx.Exec(ctx, `UPDATE printed_codes SET revoked_at = $3, revoke_reason = $4
		WHERE person_id = $1 AND kind = $2 AND revoked_at IS NULL AND expires_at > $3`,
		pid, kind, tx.Now, credential.RevokeSuperseded); err != nil {
		return nil, fmt.Errorf("revoke superseded: %w", err)
	}
	now := tx.Now.Truncate(time.Second)
	c := &healthcode.Credential{Kind: kind, Colour: colour, MaskedName: name, IssuedAt: now, ExpiresAt: now.Add(credential.PaperTokenLifetime)}
	tokenID := credential.NewTokenID()
	var err error
	c.Token, err = s.sign(credential.Claims{Issuer: s.Ring.Issuer(), CodeID: codeID, Colour: string(colour), MaskedName: name,
		Kind: kind, IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt, TokenID: tokenID})
	if err != nil {
		return nil, err
	}
	a := healthcode.ActorFromContext(ctx)
	if err := tx.QueryRow(ctx, `INSERT INTO printed_codes (person_id, kind, token_id, colour, issued_by, issued_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, pid, kind, tokenID, string(colour), a.Subject(), c.IssuedAt, c.ExpiresAt).Scan(&c.PrintedID); err != nil {
		return nil, fmt.Errorf("record printed code: %w", err)
	}
	s.InvalidateVerifier()
	return c, nil
}

// IssuePaperCode implements healthcode.CredentialService.
func (s *CredentialService) IssuePaperCode(ctx context.Context, pid int64) (*healthcode.Credential, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	code, err := s.Codes.CodeOf(ctx, pid)
	if err != nil {
		return nil, err
	}
	var out *healthcode.Credential
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		region, err := s.DB.authorizeOnPerson(ctx, tx, a, healthcode.PermPersonDeclare, pid)
		if err != nil {
			return err
		}
		out, err = s.printCode(ctx, tx, pid, healthcode.CredentialPaper, code.Colour)
		if err != nil {
			return err
		}
		return tx.Audit(ctx, healthcode.AuditRecord{Role: s.DB.roleFor(ctx, a, healthcode.PermPersonDeclare, region),
			RegionCode: region, Action: "credential.print_paper", Object: "person:" + strconv.FormatInt(pid, 10),
			Detail: map[string]any{"printed": out.PrintedID, "colour": string(code.Colour)}})
	})
	return out, err
}

// RevokePaperCode implements healthcode.CredentialService.
func (s *CredentialService) RevokePaperCode(ctx context.Context, pid int64, reason string) (int, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return 0, err
	}
	if reason, err = healthcode.ValidText("作废原因", reason, 1, 200); err != nil {
		return 0, err
	}
	var n int
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		region, err := s.DB.authorizeOnPerson(ctx, tx, a, healthcode.PermPersonDeclare, pid)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `UPDATE printed_codes SET revoked_at = $3, revoke_reason = $4
			WHERE person_id = $1 AND kind = $2 AND revoked_at IS NULL AND expires_at > $3 RETURNING id`,
			pid, healthcode.CredentialPaper, tx.Now, credential.RevokeCancelled)
		if err != nil {
			return fmt.Errorf("revoke paper codes: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("revoke paper codes: %w", err)
		}
		n = len(ids)
		if n == 0 {
			return healthcode.Errorf(healthcode.ECONFLICT, "该人员没有有效的纸质健康码")
		}
		return tx.Audit(ctx, healthcode.AuditRecord{Role: s.DB.roleFor(ctx, a, healthcode.PermPersonDeclare, region),
			RegionCode: region, Action: "credential.revoke_paper", Object: "person:" + strconv.FormatInt(pid, 10),
			Reason: reason, Detail: map[string]any{"printed": ids}})
	})
	if err == nil {
		s.InvalidateVerifier()
	}
	return n, err
}

// ApplyPassCard implements healthcode.CredentialService.
func (s *CredentialService) ApplyPassCard(ctx context.Context, in healthcode.DeclarationInput) (*healthcode.PassCardApplication, error) {
	person, code, err := s.Codes.SubmitDeclaration(ctx, in)
	if err != nil {
		return nil, err
	}
	a := healthcode.ActorFromContext(ctx)
	var app *healthcode.PassCardApplication
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		var pending bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pass_card_applications WHERE person_id = $1 AND status = 'PENDING')`,
			person.ID).Scan(&pending); err != nil {
			return err
		}
		if pending {
			return healthcode.Errorf(healthcode.ECONFLICT, "已有待审核的健康通行卡申请，请等待社区审核")
		}
		var declID int64
		var region, path string
		if err := tx.QueryRow(ctx, `SELECT d.id, p.residence_code, p.residence_path::text FROM declarations d
			JOIN persons p ON p.id = d.person_id WHERE d.person_id = $1 ORDER BY d.id DESC LIMIT 1`, person.ID).Scan(&declID, &region, &path); err != nil {
			return fmt.Errorf("load declaration: %w", err)
		}
		app = &healthcode.PassCardApplication{PersonID: person.ID, RegionCode: region, Status: "PENDING", Colour: code.Colour, CreatedAt: tx.Now}
		if err := tx.QueryRow(ctx, `INSERT INTO pass_card_applications (person_id, declaration_id, region_code, region_path, status, submitted_by, created_at)
			VALUES ($1, $2, $3, $4::text::ltree, 'PENDING', $5, $6) RETURNING id`, person.ID, declID, region, path, a.Subject(), tx.Now).Scan(&app.ID); err != nil {
			return fmt.Errorf("insert pass card application: %w", err)
		}
		return tx.QueryRow(ctx, "SELECT name_masked FROM persons WHERE id = $1", person.ID).Scan(&app.MaskedName)
	})
	return app, err
}

const passCardColumns = `a.id, a.person_id, p.name_masked, a.region_code, a.status, COALESCE(c.colour, 'GREEN'), a.created_at,
	COALESCE(a.reviewed_by, ''), a.reviewed_at, COALESCE(a.review_reason, ''), COALESCE(a.card_id, 0)`

func scanPassCard(row pgx.Row) (*healthcode.PassCardApplication, error) {
	var a healthcode.PassCardApplication
	var colour string
	err := row.Scan(&a.ID, &a.PersonID, &a.MaskedName, &a.RegionCode, &a.Status, &colour, &a.CreatedAt,
		&a.ReviewedBy, &a.ReviewedAt, &a.ReviewReason, &a.CardID)
	a.Colour = healthcode.Colour(colour)
	return &a, err
}

// ReviewPassCard implements healthcode.CredentialService.
func (s *CredentialService) ReviewPassCard(ctx context.Context, id int64, approve bool, reason string) (*healthcode.PassCardApplication, *healthcode.Credential, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, nil, err
	}
	reason = strings.TrimSpace(reason)
	if !approve && reason == "" {
		return nil, nil, healthcode.Errorf(healthcode.EINVALID, "驳回须填写原因")
	}
	if utf8.RuneCountInString(reason) > 500 {
		return nil, nil, healthcode.Errorf(healthcode.EINVALID, "原因不超过 500 个字")
	}
	var app *healthcode.PassCardApplication
	var card *healthcode.Credential
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		var err error
		app, err = scanPassCard(tx.QueryRow(ctx, "SELECT "+passCardColumns+` FROM pass_card_applications a
			JOIN persons p ON p.id = a.person_id LEFT JOIN codes c ON c.person_id = a.person_id
			WHERE a.id = $1 FOR UPDATE OF a`, id))
		if err != nil {
			return mapError(err, "申请不存在")
		}
		// Staff who may read the applicant's person there see the
		// application (FORBIDDEN without passcard.review); others do not.
		if err := s.DB.authorize(ctx, a, healthcode.PermPassCardReview, app.RegionCode, seenWith("申请不存在", healthcode.PermPersonRead)); err != nil {
			return err
		}
		if app.Status != "PENDING" {
			return healthcode.Errorf(healthcode.ECONFLICT, "该申请已审核")
		}
		codes, err := s.DB.reevaluate(ctx, tx, []int64{app.PersonID}, "passcard:"+strconv.FormatInt(id, 10))
		if err != nil {
			return err
		}
		app.Colour = codes[app.PersonID].Colour
		if approve && app.Colour != healthcode.Green {
			return healthcode.Errorf(healthcode.ECONFLICT, "申请人当前为%s，只有低风险（绿码）人员可以发放健康通行卡", app.Colour.Label())
		}
		app.Status, app.ReviewedBy, app.ReviewedAt, app.ReviewReason = "REJECTED", a.Subject(), &tx.Now, reason
		if approve {
			app.Status = "APPROVED"
			if card, err = s.printCode(ctx, tx, app.PersonID, healthcode.CredentialPassCard, app.Colour); err != nil {
				return err
			}
			app.CardID = card.PrintedID
		}
		if _, err := tx.Exec(ctx, `UPDATE pass_card_applications SET status = $2, reviewed_by = $3, reviewed_at = $4,
			review_reason = $5, card_id = NULLIF($6, 0) WHERE id = $1`, id, app.Status, a.Subject(), tx.Now, reason, app.CardID); err != nil {
			return fmt.Errorf("review pass card: %w", err)
		}
		return tx.Audit(ctx, healthcode.AuditRecord{Role: s.DB.roleFor(ctx, a, healthcode.PermPassCardReview, app.RegionCode),
			RegionCode: app.RegionCode, Action: "passcard.review", Object: "person:" + strconv.FormatInt(app.PersonID, 10),
			Reason: reason, Detail: map[string]any{"application": id, "status": app.Status}})
	})
	if err != nil {
		return nil, nil, err
	}
	return app, card, nil
}

// PassCardApplications implements healthcode.CredentialService.
func (s *CredentialService) PassCardApplications(ctx context.Context, region, status string) ([]*healthcode.PassCardApplication, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	visible, err := s.DB.scope(ctx, a, healthcode.PermPassCardReview, region)
	if err != nil {
		return nil, err
	}
	if status == "" {
		status = "PENDING"
	}
	if status != "PENDING" && status != "APPROVED" && status != "REJECTED" {
		return nil, healthcode.Errorf(healthcode.EINVALID, "状态应为 PENDING、APPROVED 或 REJECTED")
	}
	rows, err := s.DB.Pool.Query(ctx, "SELECT "+passCardColumns+` FROM pass_card_applications a
		JOIN persons p ON p.id = a.person_id LEFT JOIN codes c ON c.person_id = a.person_id
		WHERE in_regions(a.region_path, $1) AND a.status = $2 ORDER BY a.id LIMIT 500`, ltreePaths(visible), status)
	if err != nil {
		return nil, fmt.Errorf("list pass card applications: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.PassCardApplication, error) { return scanPassCard(r) })
}

// VerifyCode implements healthcode.CredentialService.
func (s *CredentialService) VerifyCode(ctx context.Context, token string) (*healthcode.VerifiedCode, error) {
	v, err := s.currentVerifier(ctx)
	if err != nil {
		return nil, err
	}
	c, err := v.Verify(strings.TrimSpace(token), s.DB.now(), credential.DefaultSkew)
	if err != nil {
		if ve := credential.AsVerifyError(err); ve != nil {
			return nil, healthcode.Errorf(healthcode.EINVALID, "%s（%s）", ve.Message(), ve.Reason)
		}
		return nil, err
	}
	return &healthcode.VerifiedCode{Issuer: c.Issuer, IssuerName: credential.IssuerName(c.Issuer), CodeID: c.CodeID,
		Colour: healthcode.Colour(c.Colour), MaskedName: c.MaskedName, Kind: c.Kind, IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt}, nil
}

// queueRevokePrinted queues on b the revocation of the printed codes of
// persons whose colour changed (SPEC §2: a paper code is revoked if the
// colour changes).
func queueRevokePrinted(b *pgx.Batch, pids []int64, now time.Time) {
	b.Queue(`UPDATE printed_codes SET revoked_at = $2, revoke_reason = $3
		WHERE person_id = ANY($1) AND revoked_at IS NULL AND expires_at > $2`, pids, now, credential.RevokeColourChanged)
}
