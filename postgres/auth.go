package postgres

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/pii"
)

// AuthService is healthcode.AuthService as a value of its own, for wiring
// that keeps one field per service (&AuthService{DB: db}). The methods are
// those of *DB, which implements the interface itself.
type AuthService struct{ *DB }

var (
	_ healthcode.AuthService = (*DB)(nil)
	_ healthcode.AuthService = (*AuthService)(nil)
)

// Token prefixes: the kind of a bearer token is visible in its first four
// characters, so Authenticate needs one lookup and leaked tokens are easy to
// recognise in logs and secret scanners.
const (
	staffTokenPrefix    = "hcs_"
	residentTokenPrefix = "hcr_"
	apiKeyPrefix        = "hck_"
	tokenRandomBytes    = 32
)

// Limits of staff and resident logins and of SMS codes.
const (
	maxLoginFailures   = 5                // consecutive wrong SMS codes before a phone lockout
	loginLockout       = 15 * time.Minute // how long a phone lockout lasts
	loginFreeFailures  = 3                // failed staff logins (per name and address) before delays start
	loginMaxDelay      = 15 * time.Minute // the longest delay between failed staff logins
	smsPhoneInterval   = time.Minute      // at most one code per phone per interval
	smsPhonePerDay     = 10               // codes per phone per 24 hours
	smsAddrPerHour     = 30               // codes per client address per hour
	apiKeyTouchEvery   = time.Minute      // last_used_at is written at most this often
	maxAPIKeyNameRunes = 100

	defaultStaffSessionTTL    = 12 * time.Hour
	defaultResidentSessionTTL = 30 * 24 * time.Hour
)

// Messages of the authentication errors. Login failures never say whether
// the username exists.
var (
	errBadCredentials = &healthcode.Error{Code: healthcode.EUNAUTHENTICATED, Message: "用户名或密码错误"}
	errBadPhone       = &healthcode.Error{Code: healthcode.EINVALID, Message: "手机号码格式不正确"}
	errBadSMSCode     = &healthcode.Error{Code: healthcode.EUNAUTHENTICATED, Message: "验证码错误或已过期"}
	errPhoneLocked    = &healthcode.Error{Code: healthcode.ERATELIMITED, Message: "验证码错误次数过多，请 15 分钟后再试"}
	errSMSTooOften    = &healthcode.Error{Code: healthcode.ERATELIMITED, Message: "发送过于频繁，请稍后再试"}
	errSessionInvalid = &healthcode.Error{Code: healthcode.EUNAUTHENTICATED, Message: "登录已失效，请重新登录"}
)

// smsCodeText is the text of the login code message; %s is the code.
const smsCodeText = "【陕西健康码】您的登录验证码为 %s，5 分钟内有效。请勿泄露给他人。"

// Login implements healthcode.AuthService: anyone may call it. It checks a
// staff username and password and opens a staff session. Failures are
// counted per (username, client address) — for unknown names as for real
// ones — and from the third in a row each attempt must wait a growing delay
// (loginDelay); a success from that address clears them. There is no
// account-wide lockout, so nobody can lock another person's account, and
// the answers (and the work done: one password hash) are the same for
// unknown names, wrong passwords and disabled accounts.
// Errors: UNAUTHENTICATED (unknown user, wrong password, disabled account —
// one message for all), RATE_LIMITED (throttled, with a retry-after; or too
// many password checks queued on this server).
func (db *DB) Login(ctx context.Context, username, password string) (*healthcode.Session, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	addr := healthcode.RequestInfoFromContext(ctx).ClientAddr
	key := db.PII.Hash("login", username)
	var blockedUntil *time.Time
	err := db.Pool.QueryRow(ctx, `SELECT blocked_until FROM login_throttle WHERE username_hash = $1 AND client_addr = $2`,
		key, addr).Scan(&blockedUntil)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("read login throttle: %w", err)
	}
	if now := db.now(); blockedUntil != nil && blockedUntil.After(now) {
		return nil, loginThrottled(blockedUntil.Sub(now))
	}
	var (
		id   int64
		hash string
	)
	err = db.Pool.QueryRow(ctx, `SELECT id, password_hash FROM staff WHERE username = $1`, username).Scan(&id, &hash)
	known := err == nil
	if errors.Is(err, pgx.ErrNoRows) {
		if err := checkDummyPassword(ctx, password); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("load staff for login: %w", err)
	}
	// The slow hash runs outside the transaction, through the gate that
	// bounds concurrent hashes.
	ok := false
	if known {
		if ok, err = checkPassword(ctx, hash, password); err != nil {
			if healthcode.ErrorCode(err) == healthcode.ERATELIMITED {
				return nil, err
			}
			return nil, fmt.Errorf("check password of staff %d: %w", id, err)
		}
	}
	if !ok {
		return nil, db.loginFailed(ctx, key, addr)
	}
	var sess *healthcode.Session
	disabled := false
	err = db.InTx(ctx, func(tx *Tx) error {
		var region string
		err := tx.QueryRow(ctx, `SELECT region_code, disabled FROM staff WHERE id = $1 FOR UPDATE`, id).Scan(&region, &disabled)
		if err != nil {
			return fmt.Errorf("lock staff %d: %w", id, err)
		}
		if disabled {
			return nil
		}
		if _, err := tx.Exec(ctx, "DELETE FROM login_throttle WHERE username_hash = $1 AND client_addr = $2", key, addr); err != nil {
			return fmt.Errorf("clear login throttle: %w", err)
		}
		if sess, err = db.openSession(ctx, tx, healthcode.ActorStaff, id); err != nil {
			return err
		}
		actx := healthcode.NewContextWithActor(ctx, &healthcode.Actor{
			Kind: healthcode.ActorStaff, ID: id, Name: username, SessionID: sess.ID})
		return tx.Audit(actx, healthcode.AuditRecord{
			RegionCode: region, Action: "auth.login", Object: "staff:" + strconv.FormatInt(id, 10),
			Detail: map[string]any{"session": sess.ID, "clientAddr": addr},
		})
	})
	if err != nil {
		return nil, err
	}
	if disabled {
		return nil, db.loginFailed(ctx, key, addr)
	}
	return sess, nil
}

// loginDelay is the wait imposed after n consecutive failed logins of one
// username from one address: none for the first two, then 1 s doubling up
// to 15 minutes (1, 2, 4, … 512, 900 s).
func loginDelay(n int) time.Duration {
	if n < loginFreeFailures {
		return 0
	}
	if n-loginFreeFailures >= 10 {
		return loginMaxDelay
	}
	return min(time.Second<<(n-loginFreeFailures), loginMaxDelay)
}

// loginThrottled is the answer to a throttled login.
func loginThrottled(d time.Duration) error {
	e := healthcode.RateLimited(d)
	e.Message = "登录失败次数过多，请 " + strconv.FormatInt(int64(e.RetryAfter/time.Second), 10) + " 秒后再试"
	return e
}

// loginFailed counts a failed login of the username hashed as key from addr
// (concurrent failures all count) and returns errBadCredentials.
func (db *DB) loginFailed(ctx context.Context, key []byte, addr string) error {
	now := db.now()
	var n int
	err := db.Pool.QueryRow(ctx, `INSERT INTO login_throttle (username_hash, client_addr, failures, updated_at)
		VALUES ($1, $2, 1, $3)
		ON CONFLICT (username_hash, client_addr) DO UPDATE SET failures = login_throttle.failures + 1, updated_at = $3
		RETURNING failures`, key, addr, now).Scan(&n)
	if err != nil {
		return fmt.Errorf("count failed login: %w", err)
	}
	if d := loginDelay(n); d > 0 {
		if _, err := db.Pool.Exec(ctx, `UPDATE login_throttle SET blocked_until = GREATEST(blocked_until, $3)
			WHERE username_hash = $1 AND client_addr = $2`, key, addr, now.Add(d)); err != nil {
			return fmt.Errorf("throttle login: %w", err)
		}
	}
	return errBadCredentials
}

// openSession creates a session for a staff member or resident in tx and
// returns it with its token.
func (db *DB) openSession(ctx context.Context, tx *Tx, kind healthcode.ActorKind, ownerID int64) (*healthcode.Session, error) {
	prefix, ttl := staffTokenPrefix, db.StaffSessionTTL
	if ttl <= 0 {
		ttl = defaultStaffSessionTTL
	}
	var staffID, residentID *int64
	switch kind {
	case healthcode.ActorStaff:
		staffID = &ownerID
	case healthcode.ActorResident:
		residentID = &ownerID
		prefix, ttl = residentTokenPrefix, db.ResidentSessionTTL
		if ttl <= 0 {
			ttl = defaultResidentSessionTTL
		}
	default:
		return nil, fmt.Errorf("open session: unsupported kind %q", kind)
	}
	token, err := randomToken(prefix)
	if err != nil {
		return nil, err
	}
	s := &healthcode.Session{Token: token, Kind: kind, ExpiresAt: tx.Now.Add(ttl)}
	err = tx.QueryRow(ctx, `INSERT INTO sessions (token_hash, kind, staff_id, resident_id, client_addr, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		tokenHash(token), string(kind), staffID, residentID, healthcode.RequestInfoFromContext(ctx).ClientAddr,
		tx.Now, s.ExpiresAt).Scan(&s.ID)
	if err != nil {
		return nil, fmt.Errorf("insert %s session: %w", strings.ToLower(string(kind)), err)
	}
	return s, nil
}

// randomToken returns prefix followed by 32 random bytes in unpadded base64url.
func randomToken(prefix string) (string, error) {
	b := make([]byte, tokenRandomBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// tokenHash is what the database stores of a session token or API key.
func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// phoneLockKey is the advisory lock that serialises the SMS code requests and
// logins of one phone.
func phoneLockKey(phoneHash []byte) string { return "hc:sms:phone:" + hex.EncodeToString(phoneHash) }

// xactLock takes a transaction-scoped advisory lock named by key.
func xactLock(ctx context.Context, tx *Tx, key string) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key); err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	return nil
}

// RequestSMSCode implements healthcode.AuthService: anyone may call it. It
// queues a 6-digit login code for phone through the outbox, at most one per
// phone per minute, ten per phone per day and 30 per client address per hour.
// Errors: INVALID (phone), RATE_LIMITED (limits, or the phone is locked after
// wrong codes).
func (db *DB) RequestSMSCode(ctx context.Context, phone string) error {
	if !healthcode.ValidPhone(phone) {
		return errBadPhone
	}
	phoneHash := db.PII.Hash("phone", phone)
	addr := healthcode.RequestInfoFromContext(ctx).ClientAddr
	var result error
	err := db.InTx(ctx, func(tx *Tx) error {
		// Always address before phone: one order, no deadlocks.
		if addr != "" {
			if err := xactLock(ctx, tx, "hc:sms:addr:"+addr); err != nil {
				return err
			}
		}
		if err := xactLock(ctx, tx, phoneLockKey(phoneHash)); err != nil {
			return err
		}
		var lockedUntil *time.Time
		err := tx.QueryRow(ctx, "SELECT locked_until FROM phone_lockouts WHERE phone_hash = $1", phoneHash).Scan(&lockedUntil)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read phone lockout: %w", err)
		}
		if lockedUntil != nil && lockedUntil.After(tx.Now) {
			result = errPhoneLocked
			return nil
		}
		var lastMinute, lastDay int
		err = tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE created_at > $2), count(*) FROM sms_codes
			WHERE phone_hash = $1 AND created_at > $3`,
			phoneHash, tx.Now.Add(-smsPhoneInterval), tx.Now.Add(-24*time.Hour)).Scan(&lastMinute, &lastDay)
		if err != nil {
			return fmt.Errorf("count sms codes of phone: %w", err)
		}
		if lastMinute > 0 || lastDay >= smsPhonePerDay {
			result = errSMSTooOften
			return nil
		}
		if addr != "" {
			var lastHour int
			err := tx.QueryRow(ctx, "SELECT count(*) FROM sms_codes WHERE client_addr = $1 AND created_at > $2",
				addr, tx.Now.Add(-time.Hour)).Scan(&lastHour)
			if err != nil {
				return fmt.Errorf("count sms codes of address: %w", err)
			}
			if lastHour >= smsAddrPerHour {
				result = errSMSTooOften
				return nil
			}
		}
		code, err := randomSMSCode()
		if err != nil {
			return err
		}
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO sms_codes (phone_hash, code_hash, client_addr, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			phoneHash, db.PII.Hash("smscode", phone+":"+code), addr, tx.Now, tx.Now.Add(healthcode.SMSCodeTTL)).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert sms code: %w", err)
		}
		if err := tx.QueueSMS(ctx, phone, fmt.Sprintf(smsCodeText, code), "smscode:"+strconv.FormatInt(id, 10)); err != nil {
			return fmt.Errorf("queue sms code: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return result
}

// randomSMSCode returns a uniformly random 6-digit code.
func randomSMSCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("random sms code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// LoginResident implements healthcode.AuthService: anyone may call it. It
// checks the newest unused, unexpired SMS code of phone, opens a resident
// session and creates the resident account on first login. A code works
// once; five consecutive wrong codes lock the phone for 15 minutes.
// Errors: INVALID (phone), UNAUTHENTICATED (wrong or expired code),
// RATE_LIMITED (locked).
func (db *DB) LoginResident(ctx context.Context, phone, code string) (*healthcode.Session, error) {
	if !healthcode.ValidPhone(phone) {
		return nil, errBadPhone
	}
	phoneHash := db.PII.Hash("phone", phone)
	var (
		sess   *healthcode.Session
		result error
	)
	err := db.InTx(ctx, func(tx *Tx) error {
		if err := xactLock(ctx, tx, phoneLockKey(phoneHash)); err != nil {
			return err
		}
		var err error
		if result, err = db.consumeSMSCode(ctx, tx, phone, phoneHash, code); result != nil || err != nil {
			return err
		}
		var residentID int64
		err = tx.QueryRow(ctx, `INSERT INTO resident_accounts (phone_hash, phone_enc, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (phone_hash) DO NOTHING RETURNING id`, phoneHash, db.PII.Encrypt(phone), tx.Now).Scan(&residentID)
		if errors.Is(err, pgx.ErrNoRows) {
			err = tx.QueryRow(ctx, "SELECT id FROM resident_accounts WHERE phone_hash = $1", phoneHash).Scan(&residentID)
		}
		if err != nil {
			return fmt.Errorf("find or create resident account: %w", err)
		}
		sess, err = db.openSession(ctx, tx, healthcode.ActorResident, residentID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if result != nil {
		return nil, result
	}
	return sess, nil
}

// Logout implements healthcode.AuthService: a logged-in staff member or
// resident revokes the session that authenticated the call. For API keys and
// the system actor there is no session and it does nothing.
// Errors: UNAUTHENTICATED (no caller).
func (db *DB) Logout(ctx context.Context) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	if a.Kind != healthcode.ActorStaff && a.Kind != healthcode.ActorResident {
		return nil
	}
	_, err = db.Pool.Exec(ctx, `UPDATE sessions SET revoked_at = $3
		WHERE id = $1 AND revoked_at IS NULL AND kind = $2 AND COALESCE(staff_id, resident_id) = $4`,
		a.SessionID, string(a.Kind), db.now(), a.ID)
	if err != nil {
		return fmt.Errorf("revoke session %d: %w", a.SessionID, err)
	}
	db.ownWriteCommitted(ctx)
	return nil
}

// Authenticate implements healthcode.AuthService: entry points call it with
// the bearer token of a request. Tokens are told apart by prefix: hcs_
// (staff session), hcr_ (resident session), hck_ (API key).
// Errors: UNAUTHENTICATED (malformed, unknown, expired or revoked token, or a
// disabled staff account).
func (db *DB) Authenticate(ctx context.Context, token string) (*healthcode.Actor, error) {
	switch {
	case strings.HasPrefix(token, staffTokenPrefix):
		return db.authenticateSession(ctx, token, healthcode.ActorStaff)
	case strings.HasPrefix(token, residentTokenPrefix):
		return db.authenticateSession(ctx, token, healthcode.ActorResident)
	case strings.HasPrefix(token, apiKeyPrefix):
		return db.authenticateAPIKey(ctx, token)
	}
	return nil, errSessionInvalid
}

// wellFormedSecret reports whether s is the unpadded base64url encoding of 32 bytes.
func wellFormedSecret(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(tokenRandomBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// residentSessionSQL looks a resident session up and, in the same
// statement, reads the session's own code page (ownCodeColumns, all NULL
// before the resident declared): the code page then costs one statement.
const residentSessionSQL = `SELECT s.id, s.resident_id, r.phone_enc, s.expires_at, o.*
	FROM sessions s
	LEFT JOIN resident_accounts r ON r.id = s.resident_id
	LEFT JOIN LATERAL (SELECT ` + ownCodeColumns + ` ` + ownCodeFrom + `
		WHERE ap.account_id = s.resident_id AND ap.relation = 'SELF') o ON true
	WHERE s.token_hash = $1 AND s.kind = 'RESIDENT' AND s.revoked_at IS NULL AND s.expires_at > $2`

func (db *DB) authenticateSession(ctx context.Context, token string, kind healthcode.ActorKind) (*healthcode.Actor, error) {
	if !wellFormedSecret(token[len(staffTokenPrefix):]) {
		return nil, errSessionInvalid
	}
	if kind == healthcode.ActorResident {
		return db.authenticateResident(ctx, token)
	}
	var (
		a        = &healthcode.Actor{Kind: kind}
		name     *string
		disabled *bool
		phoneEnc []byte
		grants   int64
	)
	err := db.Pool.QueryRow(ctx, `SELECT s.id, COALESCE(s.staff_id, s.resident_id), st.username, st.disabled, r.phone_enc,
			(SELECT version FROM grants_version)
		FROM sessions s
		LEFT JOIN staff st ON st.id = s.staff_id
		LEFT JOIN resident_accounts r ON r.id = s.resident_id
		WHERE s.token_hash = $1 AND s.kind = $2 AND s.revoked_at IS NULL AND s.expires_at > $3`,
		tokenHash(token), string(kind), db.now()).Scan(&a.SessionID, &a.ID, &name, &disabled, &phoneEnc, &grants)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errSessionInvalid
	} else if err != nil {
		return nil, fmt.Errorf("look up session: %w", err)
	}
	switch kind {
	case healthcode.ActorStaff:
		if name == nil || disabled == nil || *disabled {
			return nil, errSessionInvalid
		}
		a.Name = *name
		db.checkGrantsVersion(grants)
	}
	return a, nil
}

// authenticateResident looks a resident session up with its own code page
// (healthcode.Actor.Prefetched): from db.ResidentCache when it holds the
// session (no statement), else with residentSessionSQL, kept in the cache.
func (db *DB) authenticateResident(ctx context.Context, token string) (*healthcode.Actor, error) {
	key := sha256.Sum256([]byte(token))
	now := db.now()
	c := db.ResidentCache
	if c != nil {
		if e := c.get(key, now); e != nil {
			return &healthcode.Actor{Kind: healthcode.ActorResident, SessionID: e.sessionID, ID: e.accountID, Name: e.masked,
				Prefetched: &prefetchedOwnCode{row: e.row, at: time.Now()}}, nil
		}
	}
	var seq uint64
	if c != nil {
		seq = c.begin() // before the read: an invalidation from here on discards it
	}
	a := &healthcode.Actor{Kind: healthcode.ActorResident}
	var (
		accountID *int64
		phoneEnc  []byte
		expiresAt time.Time
		p         = &prefetchedOwnCode{}
	)
	err := db.Pool.QueryRow(ctx, residentSessionSQL, key[:], now).
		Scan(append([]any{&a.SessionID, &accountID, &phoneEnc, &expiresAt}, p.row.dest()...)...)
	p.at = time.Now()
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errSessionInvalid
	} else if err != nil {
		return nil, fmt.Errorf("look up session: %w", err)
	}
	if accountID == nil || phoneEnc == nil {
		return nil, errSessionInvalid
	}
	a.ID = *accountID
	if a.Name, err = db.maskedPhone(phoneEnc); err != nil {
		return nil, fmt.Errorf("decrypt phone of resident %d: %w", a.ID, err)
	}
	a.Prefetched = p
	if c != nil {
		c.put(key, &residentEntry{sessionID: a.SessionID, accountID: a.ID, masked: a.Name, row: p.row,
			expiresAt: expiresAt, filled: now}, seq)
	}
	return a, nil
}

// parseAPIKey splits hck_<id>_<secret>; ok is false for a malformed key.
func parseAPIKey(key string) (id int64, ok bool) {
	rest, found := strings.CutPrefix(key, apiKeyPrefix)
	if !found {
		return 0, false
	}
	idPart, secret, found := strings.Cut(rest, "_")
	if !found || idPart == "" || idPart[0] == '0' || len(idPart) > 19 || !wellFormedSecret(secret) {
		return 0, false
	}
	id, err := strconv.ParseInt(idPart, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

func (db *DB) authenticateAPIKey(ctx context.Context, key string) (*healthcode.Actor, error) {
	id, ok := parseAPIKey(key)
	if !ok {
		return nil, errSessionInvalid
	}
	a := &healthcode.Actor{Kind: healthcode.ActorMachine}
	var revokedAt, lastUsed *time.Time
	var institution *int64
	var pending bool
	err := db.Pool.QueryRow(ctx, `SELECT id, name, city_code, revoked_at, last_used_at, institution_id, pending FROM api_keys
		WHERE key_hash = $1`, tokenHash(key)).Scan(&a.ID, &a.Name, &a.RegionCode, &revokedAt, &lastUsed, &institution, &pending)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errSessionInvalid
	} else if err != nil {
		return nil, fmt.Errorf("look up api key: %w", err)
	}
	// A machine client key not yet approved by a second administrator
	// authenticates nobody, as a revoked one.
	if revokedAt != nil || pending || a.ID != id {
		return nil, errSessionInvalid
	}
	if institution != nil {
		a.InstitutionID = *institution
	}
	a.SessionID = a.ID
	now := db.now()
	if lastUsed == nil || now.Sub(*lastUsed) >= apiKeyTouchEvery {
		_, err := db.Pool.Exec(ctx, `UPDATE api_keys SET last_used_at = $2
			WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)`, a.ID, now, now.Add(-apiKeyTouchEvery))
		if err != nil {
			return nil, fmt.Errorf("touch api key %d: %w", a.ID, err)
		}
	}
	return a, nil
}

// newAPIKey allocates an API key's id and makes its key, hck_<id>_<secret>;
// the caller stores its hash (tokenHash) in the same transaction.
func newAPIKey(ctx context.Context, tx *Tx) (int64, string, error) {
	var id int64
	if err := tx.QueryRow(ctx, "SELECT nextval(pg_get_serial_sequence('api_keys', 'id'))").Scan(&id); err != nil {
		return 0, "", fmt.Errorf("allocate api key id: %w", err)
	}
	secret, err := randomToken("")
	if err != nil {
		return 0, "", err
	}
	return id, apiKeyPrefix + strconv.FormatInt(id, 10) + "_" + secret, nil
}

// CreateAPIKey implements healthcode.AuthService: staff holding apikey.manage
// at the city call it. The key, hck_<id>_<secret>, is returned once; only its
// SHA-256 is stored. Errors: UNAUTHENTICATED, FORBIDDEN (not staff, or no
// apikey.manage at the city), INVALID (not an existing city, empty or long name).
func (db *DB) CreateAPIKey(ctx context.Context, cityCode, name string) (string, int64, error) {
	a, err := actor(ctx)
	if err != nil {
		return "", 0, err
	}
	if a.Kind != healthcode.ActorStaff {
		return "", 0, healthcode.ErrForbidden
	}
	if level, ok := healthcode.LevelOfCode(cityCode); !ok || level != healthcode.LevelCity {
		return "", 0, healthcode.Errorf(healthcode.EINVALID, "API 密钥须绑定地市，地区代码应为 4 位地市代码")
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxAPIKeyNameRunes {
		return "", 0, healthcode.Errorf(healthcode.EINVALID, "名称不能为空，且不超过 %d 个字", maxAPIKeyNameRunes)
	}
	if err := db.authorize(ctx, a, healthcode.PermAPIKeyManage, cityCode); err != nil {
		return "", 0, err
	}
	var key string
	var id int64
	err = db.InTx(ctx, func(tx *Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM regions WHERE code = $1)", cityCode).Scan(&exists); err != nil {
			return fmt.Errorf("look up city %s: %w", cityCode, err)
		}
		if !exists {
			return healthcode.Errorf(healthcode.EINVALID, "地市不存在：%s", cityCode)
		}
		var err error
		if id, key, err = newAPIKey(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO api_keys (id, name, city_code, key_hash, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, id, name, cityCode, tokenHash(key), a.ID, tx.Now); err != nil {
			return fmt.Errorf("insert api key: %w", err)
		}
		return tx.Audit(ctx, healthcode.AuditRecord{
			Role: db.roleFor(ctx, a, healthcode.PermAPIKeyManage, cityCode), RegionCode: cityCode,
			Action: "apikey.create", Object: "apikey:" + strconv.FormatInt(id, 10),
			Detail: map[string]any{"name": name},
		})
	})
	if err != nil {
		return "", 0, err
	}
	return key, id, nil
}

// PurgeExpiredAuth deletes sessions that expired more than 7 days ago, SMS
// codes older than a day (the longest rate-limit window) and phone lockout
// rows that no longer hold anything. The periodic worker task calls it; it
// bypasses authorization. It returns the number of rows deleted.
// Errors: INTERNAL only.
func (db *DB) PurgeExpiredAuth(ctx context.Context) (int64, error) {
	now := db.now()
	var total int64
	for _, q := range []struct{ what, sql string }{
		{"sessions", "DELETE FROM sessions WHERE expires_at < $1::timestamptz - interval '7 days'"},
		{"sms codes", "DELETE FROM sms_codes WHERE created_at < $1::timestamptz - interval '1 day'"},
		{"phone lockouts", "DELETE FROM phone_lockouts WHERE failures = 0 AND (locked_until IS NULL OR locked_until < $1)"},
		{"login throttles", "DELETE FROM login_throttle WHERE updated_at < $1::timestamptz - interval '1 day' AND (blocked_until IS NULL OR blocked_until < $1)"},
	} {
		tag, err := db.Pool.Exec(ctx, q.sql, now)
		if err != nil {
			return total, fmt.Errorf("purge %s: %w", q.what, err)
		}
		total += tag.RowsAffected()
	}
	return total, nil
}

// consumeSMSCode checks code against the newest unused, unexpired SMS code of
// phone inside tx (which holds the phone's lock) and spends it. A wrong code
// counts towards the phone's lockout. It returns the caller's answer
// (errBadSMSCode, errPhoneLocked) or nil when the code is right.
func (db *DB) consumeSMSCode(ctx context.Context, tx *Tx, phone string, phoneHash []byte, code string) (error, error) {
	var failures int
	var lockedUntil *time.Time
	err := tx.QueryRow(ctx, "SELECT failures, locked_until FROM phone_lockouts WHERE phone_hash = $1",
		phoneHash).Scan(&failures, &lockedUntil)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("read phone lockout: %w", err)
	}
	if lockedUntil != nil && lockedUntil.After(tx.Now) {
		return errPhoneLocked, nil
	}
	var codeID int64
	var codeHash []byte
	err = tx.QueryRow(ctx, `SELECT id, code_hash FROM sms_codes
			WHERE phone_hash = $1 AND used_at IS NULL AND expires_at > $2
			ORDER BY created_at DESC, id DESC LIMIT 1`, phoneHash, tx.Now).Scan(&codeID, &codeHash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("read sms code: %w", err)
	}
	match := err == nil && len(code) == 6 && hmac.Equal(codeHash, db.PII.Hash("smscode", phone+":"+code))
	if !match {
		failures++
		var until *time.Time
		if failures >= maxLoginFailures {
			t := tx.Now.Add(loginLockout)
			failures, until = 0, &t
		}
		_, err := tx.Exec(ctx, `INSERT INTO phone_lockouts (phone_hash, failures, locked_until) VALUES ($1, $2, $3)
				ON CONFLICT (phone_hash) DO UPDATE SET failures = EXCLUDED.failures, locked_until = EXCLUDED.locked_until`,
			phoneHash, failures, until)
		if err != nil {
			return nil, fmt.Errorf("count failed sms login: %w", err)
		}
		return errBadSMSCode, nil
	}
	// Single use: this code and any older outstanding ones are spent.
	if _, err := tx.Exec(ctx, `UPDATE sms_codes SET used_at = $2 WHERE phone_hash = $1 AND used_at IS NULL`,
		phoneHash, tx.Now); err != nil {
		return nil, fmt.Errorf("mark sms code %d used: %w", codeID, err)
	}
	if failures > 0 || lockedUntil != nil {
		if _, err := tx.Exec(ctx, "DELETE FROM phone_lockouts WHERE phone_hash = $1", phoneHash); err != nil {
			return nil, fmt.Errorf("reset phone lockout: %w", err)
		}
	}
	return nil, nil
}

// maskedPhones caches the masked phone of a resident account by the
// ciphertext of its phone, so that a session lookup does not decrypt the
// phone on every request (a ciphertext is one account's phone, under one
// key: its mask never changes). Only masks are kept; the cache is emptied
// when it holds maxMaskedPhones entries.
var (
	maskedPhonesMu sync.Mutex
	maskedPhones   = map[string]string{}
)

const maxMaskedPhones = 500_000

// maskedPhone returns the display mask of an encrypted phone.
func (db *DB) maskedPhone(enc []byte) (string, error) {
	maskedPhonesMu.Lock()
	m, ok := maskedPhones[string(enc)]
	maskedPhonesMu.Unlock()
	if ok {
		return m, nil
	}
	phone, err := db.PII.Decrypt(enc)
	if err != nil {
		return "", err
	}
	m = pii.MaskPhone(phone)
	maskedPhonesMu.Lock()
	if len(maskedPhones) >= maxMaskedPhones {
		clear(maskedPhones)
	}
	maskedPhones[string(enc)] = m
	maskedPhonesMu.Unlock()
	return m, nil
}
