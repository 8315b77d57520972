package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"healthcode"
	"healthcode/pii"
	"healthcode/postgres/pgtest"
)

// authTestAuthz is a fake Authorizer: it allows everything inside region
// (everything when region is "").
type authTestAuthz struct{ region string }

func (z authTestAuthz) Authorize(_ context.Context, a *healthcode.Actor, _ healthcode.Permission, code string) error {
	if a == nil {
		return healthcode.ErrUnauthenticated
	}
	if z.region == "" || healthcode.RegionInside(code, z.region) {
		return nil
	}
	return healthcode.ErrForbidden
}

func (z authTestAuthz) VisibleRegions(_ context.Context, a *healthcode.Actor, _ healthcode.Permission) ([]string, error) {
	if a == nil {
		return nil, healthcode.ErrUnauthenticated
	}
	if z.region == "" {
		return []string{healthcode.ProvinceCode}, nil
	}
	return []string{z.region}, nil
}

func (z authTestAuthz) RolesAt(ctx context.Context, a *healthcode.Actor, p healthcode.Permission, code string) ([]healthcode.Role, error) {
	if err := z.Authorize(ctx, a, p, code); err != nil {
		return nil, err
	}
	return []healthcode.Role{healthcode.RoleAdmin}, nil
}

// authBundle is what an auth test works with.
type authBundle struct {
	db    *DB
	clock *healthcode.OffsetClock
}

const authTestPassword = "Secret12345"

func authSetup(t *testing.T) *authBundle {
	t.Helper()
	cipher, err := pii.NewCipher([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	clock := &healthcode.OffsetClock{}
	return &authBundle{
		db:    &DB{Pool: pgtest.New(t), Clock: clock, Authz: authTestAuthz{}, PII: cipher},
		clock: clock,
	}
}

// addStaff inserts a staff account homed in region with authTestPassword.
func (b *authBundle) addStaff(t *testing.T, username, region string) int64 {
	t.Helper()
	hash, err := HashPassword(authTestPassword)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	err = b.db.Pool.QueryRow(context.Background(), `INSERT INTO staff (username, display_name, password_hash, region_code, region_path)
		SELECT $1, $1, $2, code, path FROM regions WHERE code = $3 RETURNING id`, username, hash, region).Scan(&id)
	if err != nil {
		t.Fatalf("insert staff: %v", err)
	}
	return id
}

func (b *authBundle) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := b.db.Pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

var authSMSCodeRE = regexp.MustCompile(`^【陕西健康码】您的登录验证码为 (\d{6})，5 分钟内有效。请勿泄露给他人。$`)

// lastSMSCode reads the newest notify:sms outbox row, opens it and returns
// the code sent to phone.
func (b *authBundle) lastSMSCode(t *testing.T, phone string) string {
	t.Helper()
	var payload []byte
	var dedup string
	err := b.db.Pool.QueryRow(context.Background(), `SELECT payload, dedup_key FROM outbox
		WHERE task_type = $1 ORDER BY id DESC LIMIT 1`, healthcode.TaskNotifySMS).Scan(&payload, &dedup)
	if err != nil {
		t.Fatalf("read sms outbox: %v", err)
	}
	if strings.Contains(string(payload), phone) {
		t.Fatal("outbox payload holds the phone in clear")
	}
	msg, err := b.db.OpenSMS(payload)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Phone != phone {
		t.Fatalf("sms to %q, want %q", msg.Phone, phone)
	}
	m := authSMSCodeRE.FindStringSubmatch(msg.Text)
	if m == nil {
		t.Fatalf("unexpected sms text %q", msg.Text)
	}
	if !regexp.MustCompile(`^smscode:\d+$`).MatchString(dedup) {
		t.Fatalf("dedup key %q", dedup)
	}
	return m[1]
}

func authWantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	if got := healthcode.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	if msg != "" && healthcode.ErrorMessage(err) != msg {
		t.Fatalf("error message %q, want %q", healthcode.ErrorMessage(err), msg)
	}
}

func authCtxWithAddr(addr string) context.Context {
	return healthcode.NewContextWithRequestInfo(context.Background(), healthcode.RequestInfo{ClientAddr: addr})
}

func TestAuthLoginSuccess(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	ctx := authCtxWithAddr("10.0.0.1")
	id := b.addStaff(t, "xian_admin", "6101")

	s, err := b.db.Login(ctx, "  Xian_Admin ", authTestPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^hcs_[A-Za-z0-9_-]{43}$`).MatchString(s.Token) || s.Kind != healthcode.ActorStaff {
		t.Fatalf("session %+v", s)
	}
	if d := s.ExpiresAt.Sub(b.clock.Now()); d < 11*time.Hour+59*time.Minute || d > 12*time.Hour {
		t.Fatalf("staff session lives %v, want 12h", d)
	}
	a, err := b.db.Authenticate(ctx, s.Token)
	if err != nil {
		t.Fatal(err)
	}
	want := healthcode.Actor{Kind: healthcode.ActorStaff, ID: id, Name: "xian_admin", SessionID: s.ID}
	if *a != want {
		t.Fatalf("actor %+v, want %+v", *a, want)
	}
	if n := b.count(t, `SELECT count(*) FROM sessions WHERE id = $1 AND client_addr = '10.0.0.1' AND token_hash <> $2::bytea`,
		s.ID, []byte(s.Token)); n != 1 {
		t.Fatal("session row without client address or with the token in clear")
	}
	if n := b.count(t, `SELECT count(*) FROM audit_log WHERE action = 'auth.login' AND object = $1
		AND actor = $1 AND region_code = '6101'`, fmt.Sprintf("staff:%d", id)); n != 1 {
		t.Fatalf("%d auth.login audit records, want 1", n)
	}
}

func TestAuthLoginFailures(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	ctx := context.Background()
	id := b.addStaff(t, "operator", "61")

	_, errUnknown := b.db.Login(ctx, "nobody", authTestPassword)
	authWantCode(t, errUnknown, healthcode.EUNAUTHENTICATED, "用户名或密码错误")
	_, errWrong := b.db.Login(ctx, "operator", "wrong password 1")
	authWantCode(t, errWrong, healthcode.EUNAUTHENTICATED, "用户名或密码错误")
	if n := b.count(t, "SELECT failures FROM login_throttle WHERE username_hash = $1", b.db.PII.Hash("login", "operator")); n != 1 {
		t.Fatalf("failures = %d, want 1", n)
	}
	// A success resets the count: failures must be consecutive to throttle.
	if _, err := b.db.Login(ctx, "operator", authTestPassword); err != nil {
		t.Fatal(err)
	}
	if n := b.count(t, "SELECT count(*) FROM login_throttle WHERE username_hash = $1", b.db.PII.Hash("login", "operator")); n != 0 {
		t.Fatalf("%d throttle rows after success, want 0", n)
	}

	// A disabled account cannot log in, and its sessions stop working.
	s, err := b.db.Login(ctx, "operator", authTestPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.Pool.Exec(ctx, "UPDATE staff SET disabled = true WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
	_, err = b.db.Login(ctx, "operator", authTestPassword)
	authWantCode(t, err, healthcode.EUNAUTHENTICATED, "用户名或密码错误")
	_, err = b.db.Authenticate(ctx, s.Token)
	authWantCode(t, err, healthcode.EUNAUTHENTICATED, "登录已失效，请重新登录")
}

// Failed logins are throttled per (username, address) with growing delays:
// an attacker elsewhere cannot lock the administrator out, and an unknown
// name gets exactly the answers a real one gets (issue 12 §4).
func TestAuthLoginThrottle(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	attacker, elsewhere := authCtxWithAddr("203.0.113.9"), authCtxWithAddr("10.1.2.3")
	b.addStaff(t, "admin", "61")

	// The same sequence of answers for a real name and an unknown one.
	answers := func(name string) []string {
		var out []string
		for i := range 6 {
			_, err := b.db.Login(attacker, name, fmt.Sprintf("wrong%d", i))
			out = append(out, healthcode.ErrorCode(err)+" "+healthcode.ErrorMessage(err))
		}
		return out
	}
	real, unknown := answers("admin"), answers("no_such_admin")
	if fmt.Sprint(real) != fmt.Sprint(unknown) {
		t.Fatalf("a real name answers %q, an unknown one %q", real, unknown)
	}
	if real[0] != "UNAUTHENTICATED 用户名或密码错误" || real[3] != "RATE_LIMITED 登录失败次数过多，请 1 秒后再试" {
		t.Fatalf("answers = %q", real)
	}
	// No global lockout: the administrator logs in from its own address.
	if _, err := b.db.Login(elsewhere, "admin", authTestPassword); err != nil {
		t.Fatalf("admin locked out by another address: %v", err)
	}
	// From the attacker's address the delays grow: 1 s, 2 s, 4 s …
	var retry []time.Duration
	for range 4 {
		var e *healthcode.Error
		_, err := b.db.Login(attacker, "admin", "wrong")
		for errors.As(err, &e) && e.Code == healthcode.ERATELIMITED {
			retry = append(retry, e.RetryAfter)
			b.clock.Advance(e.RetryAfter)
			_, err = b.db.Login(attacker, "admin", "wrong")
		}
		authWantCode(t, err, healthcode.EUNAUTHENTICATED, "")
	}
	if len(retry) < 3 || retry[len(retry)-1] < 4*retry[len(retry)-3] {
		t.Fatalf("delays do not grow: %v", retry)
	}
	// Even the right password waits out the delay, then succeeds and clears it.
	_, err := b.db.Login(attacker, "admin", authTestPassword)
	authWantCode(t, err, healthcode.ERATELIMITED, "")
	b.clock.Advance(loginMaxDelay)
	if _, err := b.db.Login(attacker, "admin", authTestPassword); err != nil {
		t.Fatalf("login after the delay: %v", err)
	}
	if n := b.count(t, "SELECT count(*) FROM login_throttle WHERE username_hash = $1", b.db.PII.Hash("login", "admin")); n != 0 {
		t.Fatal("throttle not cleared by the successful login")
	}
	if loginDelay(100) != loginMaxDelay || loginDelay(2) != 0 || loginDelay(3) != time.Second {
		t.Fatalf("delays %v %v %v", loginDelay(2), loginDelay(3), loginDelay(100))
	}
}

func TestAuthLoginThrottleConcurrent(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	ctx := context.Background()
	b.addStaff(t, "concurrent", "61")
	// Ten parallel wrong passwords: every one is counted, so the name is
	// throttled from this address although none of them saw the others.
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() { _, _ = b.db.Login(ctx, "concurrent", fmt.Sprintf("wrong%d", i)) })
	}
	wg.Wait()
	_, err := b.db.Login(ctx, "concurrent", authTestPassword)
	authWantCode(t, err, healthcode.ERATELIMITED, "")
	if n := b.count(t, "SELECT failures FROM login_throttle"); n != 10 {
		t.Fatalf("failures = %d, want 10", n)
	}
}

// A flood of logins is answered RATE_LIMITED beyond the gate's queue, so
// memory stays bounded (each argon2id hash takes 19 MiB).
func TestHashGateSheds(t *testing.T) {
	t.Parallel()
	g := newHashGate(1, 2)
	release := make(chan struct{})
	var wg sync.WaitGroup
	started := make(chan struct{}, 3)
	for range 3 { // one running, two queued
		wg.Go(func() {
			_ = g.run(context.Background(), func() { started <- struct{}{}; <-release })
		})
	}
	<-started
	for deadline := time.Now().Add(10 * time.Second); g.queued.Load() < 3; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for three callers at the gate")
		}
	}
	if err := g.run(context.Background(), func() {}); healthcode.ErrorCode(err) != healthcode.ERATELIMITED {
		t.Fatalf("fourth caller: %v, want RATE_LIMITED", err)
	}
	close(release)
	wg.Wait()
	if err := g.run(context.Background(), func() {}); err != nil {
		t.Fatalf("after the flood: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	ctx := context.Background()
	b.addStaff(t, "expiring", "61")
	s, err := b.db.Login(ctx, "expiring", authTestPassword)
	if err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(12*time.Hour - time.Minute)
	if _, err := b.db.Authenticate(ctx, s.Token); err != nil {
		t.Fatalf("session refused before expiry: %v", err)
	}
	b.clock.Advance(2 * time.Minute)
	_, err = b.db.Authenticate(ctx, s.Token)
	authWantCode(t, err, healthcode.EUNAUTHENTICATED, "登录已失效，请重新登录")

	// The TTL is configurable.
	b.db.StaffSessionTTL = time.Hour
	s, err = b.db.Login(ctx, "expiring", authTestPassword)
	if err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(time.Hour + time.Second)
	_, err = b.db.Authenticate(ctx, s.Token)
	authWantCode(t, err, healthcode.EUNAUTHENTICATED, "")
}

func TestSessionLogout(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	ctx := context.Background()
	authWantCode(t, b.db.Logout(ctx), healthcode.EUNAUTHENTICATED, "")

	b.addStaff(t, "leaving", "61")
	s1, err := b.db.Login(ctx, "leaving", authTestPassword)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := b.db.Login(ctx, "leaving", authTestPassword)
	if err != nil {
		t.Fatal(err)
	}
	a, err := b.db.Authenticate(ctx, s1.Token)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.db.Logout(healthcode.NewContextWithActor(ctx, a)); err != nil {
		t.Fatal(err)
	}
	_, err = b.db.Authenticate(ctx, s1.Token)
	authWantCode(t, err, healthcode.EUNAUTHENTICATED, "登录已失效，请重新登录")
	// Only the caller's session is revoked.
	if _, err := b.db.Authenticate(ctx, s2.Token); err != nil {
		t.Fatalf("other session revoked too: %v", err)
	}
}

func TestSessionForgedTokens(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	ctx := context.Background()
	b.addStaff(t, "victim", "61")
	s, err := b.db.Login(ctx, "victim", authTestPassword)
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimPrefix(s.Token, "hcs_")
	forged, _ := randomToken("hcs_")
	for _, tok := range []string{
		"",
		"hcs_",
		"hcr_",
		"hck_",
		"garbage",
		"Bearer " + s.Token,
		forged,                   // well formed, unknown
		"hcr_" + secret,          // right secret, wrong kind
		"hck_1_" + secret,        // right secret, as an API key
		s.Token + "A",            // too long
		s.Token[:len(s.Token)-1], // too short
		"hcs_" + strings.Repeat("*", 43),
		"HCS_" + secret,
		"hck_0_" + secret,
		"hck_-1_" + secret,
		"hck_99999999999999999999_" + secret,
		"hck_x_" + secret,
		"hck__" + secret,
	} {
		if _, err := b.db.Authenticate(ctx, tok); healthcode.ErrorCode(err) != healthcode.EUNAUTHENTICATED ||
			healthcode.ErrorMessage(err) != "登录已失效，请重新登录" {
			t.Errorf("Authenticate(%q) = %v; want UNAUTHENTICATED", tok, err)
		}
	}
}

func TestSMSLoginFlow(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	ctx := authCtxWithAddr("10.1.1.1")
	const phone = "13812345678"

	if err := b.db.RequestSMSCode(ctx, phone); err != nil {
		t.Fatal(err)
	}
	if n := b.count(t, "SELECT count(*) FROM sms_codes WHERE phone_hash = $1 AND client_addr = '10.1.1.1'",
		b.db.PII.Hash("phone", phone)); n != 1 {
		t.Fatalf("%d sms code rows for the phone hash, want 1", n)
	}
	code := b.lastSMSCode(t, phone)

	s, err := b.db.LoginResident(ctx, phone, code)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Token, "hcr_") || s.Kind != healthcode.ActorResident {
		t.Fatalf("session %+v", s)
	}
	if d := s.ExpiresAt.Sub(b.clock.Now()); d < 30*24*time.Hour-time.Minute || d > 30*24*time.Hour {
		t.Fatalf("resident session lives %v, want 30 days", d)
	}
	a, err := b.db.Authenticate(ctx, s.Token)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != healthcode.ActorResident || a.Name != "138****5678" || a.SessionID != s.ID || a.ID == 0 {
		t.Fatalf("actor %+v", a)
	}
	var enc []byte
	if err := b.db.Pool.QueryRow(ctx, "SELECT phone_enc FROM resident_accounts WHERE id = $1 AND phone_hash = $2",
		a.ID, b.db.PII.Hash("phone", phone)).Scan(&enc); err != nil {
		t.Fatal(err)
	}
	if got, err := b.db.PII.Decrypt(enc); err != nil || got != phone {
		t.Fatalf("stored phone decrypts to %q, %v", got, err)
	}

	// Single use.
	_, err = b.db.LoginResident(ctx, phone, code)
	authWantCode(t, err, healthcode.EUNAUTHENTICATED, "验证码错误或已过期")

	// A second login reuses the account.
	b.clock.Advance(61 * time.Second)
	if err := b.db.RequestSMSCode(ctx, phone); err != nil {
		t.Fatal(err)
	}
	s2, err := b.db.LoginResident(ctx, phone, b.lastSMSCode(t, phone))
	if err != nil {
		t.Fatal(err)
	}
	a2, err := b.db.Authenticate(ctx, s2.Token)
	if err != nil {
		t.Fatal(err)
	}
	if a2.ID != a.ID || b.count(t, "SELECT count(*) FROM resident_accounts") != 1 {
		t.Fatalf("second login made a new account: %d vs %d", a2.ID, a.ID)
	}

	// Logout of a resident session.
	if err := b.db.Logout(healthcode.NewContextWithActor(ctx, a2)); err != nil {
		t.Fatal(err)
	}
	_, err = b.db.Authenticate(ctx, s2.Token)
	authWantCode(t, err, healthcode.EUNAUTHENTICATED, "")
	if _, err := b.db.Authenticate(ctx, s.Token); err != nil {
		t.Fatalf("first session revoked too: %v", err)
	}
}

func TestSMSInvalidPhone(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	ctx := context.Background()
	for _, phone := range []string{"", "1381234567", "23812345678", "1381234567a", "+8613812345678"} {
		authWantCode(t, b.db.RequestSMSCode(ctx, phone), healthcode.EINVALID, "手机号码格式不正确")
		_, err := b.db.LoginResident(ctx, phone, "123456")
		authWantCode(t, err, healthcode.EINVALID, "手机号码格式不正确")
	}
}

func TestSMSCodeExpiry(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	ctx := context.Background()
	const phone = "15900000001"
	if err := b.db.RequestSMSCode(ctx, phone); err != nil {
		t.Fatal(err)
	}
	code := b.lastSMSCode(t, phone)
	b.clock.Advance(healthcode.SMSCodeTTL + time.Second)
	_, err := b.db.LoginResident(ctx, phone, code)
	authWantCode(t, err, healthcode.EUNAUTHENTICATED, "验证码错误或已过期")

	// Only the newest code counts.
	if err := b.db.RequestSMSCode(ctx, phone); err != nil {
		t.Fatal(err)
	}
	older := b.lastSMSCode(t, phone)
	b.clock.Advance(61 * time.Second)
	if err := b.db.RequestSMSCode(ctx, phone); err != nil {
		t.Fatal(err)
	}
	newer := b.lastSMSCode(t, phone)
	if older != newer {
		_, err = b.db.LoginResident(ctx, phone, older)
		authWantCode(t, err, healthcode.EUNAUTHENTICATED, "")
	}
	if _, err := b.db.LoginResident(ctx, phone, newer); err != nil {
		t.Fatal(err)
	}
}

func TestSMSLockout(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	ctx := context.Background()
	const phone = "13900000002"
	if err := b.db.RequestSMSCode(ctx, phone); err != nil {
		t.Fatal(err)
	}
	code := b.lastSMSCode(t, phone)
	n, err := strconv.Atoi(code)
	if err != nil {
		t.Fatal(err)
	}
	wrong := fmt.Sprintf("%06d", (n+1)%1_000_000)
	for range maxLoginFailures {
		_, err := b.db.LoginResident(ctx, phone, wrong)
		authWantCode(t, err, healthcode.EUNAUTHENTICATED, "验证码错误或已过期")
	}
	_, err = b.db.LoginResident(ctx, phone, code)
	authWantCode(t, err, healthcode.ERATELIMITED, "验证码错误次数过多，请 15 分钟后再试")
	b.clock.Advance(2 * time.Minute)
	authWantCode(t, b.db.RequestSMSCode(ctx, phone), healthcode.ERATELIMITED, "")

	b.clock.Advance(13*time.Minute + time.Second)
	if err := b.db.RequestSMSCode(ctx, phone); err != nil {
		t.Fatalf("request after the lockout: %v", err)
	}
	if _, err := b.db.LoginResident(ctx, phone, b.lastSMSCode(t, phone)); err != nil {
		t.Fatalf("login after the lockout: %v", err)
	}
	if n := b.count(t, "SELECT count(*) FROM phone_lockouts WHERE failures > 0 OR locked_until IS NOT NULL"); n != 0 {
		t.Fatal("lockout state not reset by the successful login")
	}
}

func TestSMSRateLimitPerPhone(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	ctx := context.Background()
	const phone = "18600000003"
	for i := range smsPhonePerDay {
		if err := b.db.RequestSMSCode(ctx, phone); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		authWantCode(t, b.db.RequestSMSCode(ctx, phone), healthcode.ERATELIMITED, "发送过于频繁，请稍后再试")
		b.clock.Advance(61 * time.Second)
	}
	authWantCode(t, b.db.RequestSMSCode(ctx, phone), healthcode.ERATELIMITED, "发送过于频繁，请稍后再试")
	if err := b.db.RequestSMSCode(ctx, "18600000004"); err != nil {
		t.Fatalf("another phone limited too: %v", err)
	}
	b.clock.Advance(24 * time.Hour)
	if err := b.db.RequestSMSCode(ctx, phone); err != nil {
		t.Fatalf("request a day later: %v", err)
	}
	if n := b.count(t, "SELECT count(*) FROM outbox WHERE task_type = $1", healthcode.TaskNotifySMS); n != smsPhonePerDay+2 {
		t.Fatalf("%d messages queued, want %d", n, smsPhonePerDay+2)
	}
}

func TestSMSRateLimitPerAddress(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	ctx := authCtxWithAddr("203.0.113.9")
	for i := range smsAddrPerHour {
		if err := b.db.RequestSMSCode(ctx, fmt.Sprintf("137%08d", i)); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	authWantCode(t, b.db.RequestSMSCode(ctx, "13799999999"), healthcode.ERATELIMITED, "发送过于频繁，请稍后再试")
	if err := b.db.RequestSMSCode(authCtxWithAddr("203.0.113.10"), "13799999999"); err != nil {
		t.Fatalf("another address limited too: %v", err)
	}
	b.clock.Advance(time.Hour + time.Second)
	if err := b.db.RequestSMSCode(ctx, "13799999998"); err != nil {
		t.Fatalf("request an hour later: %v", err)
	}
}

func TestSMSRateLimitConcurrent(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	ctx := context.Background()
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	for range 8 {
		wg.Go(func() {
			err := b.db.RequestSMSCode(ctx, "13600000005")
			if err != nil && healthcode.ErrorCode(err) != healthcode.ERATELIMITED {
				t.Errorf("unexpected error: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d parallel requests passed the per-minute limit, want 1", ok)
	}
}

func TestAPIKeyCreateAndAuthenticate(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	staffID := b.addStaff(t, "province_admin", "61")
	staff := &healthcode.Actor{Kind: healthcode.ActorStaff, ID: staffID, Name: "province_admin", SessionID: 1}
	ctx := healthcode.NewContextWithActor(context.Background(), staff)

	key, id, err := b.db.CreateAPIKey(ctx, "6104", "  咸阳市健康码子系统 ")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(fmt.Sprintf(`^hck_%d_[A-Za-z0-9_-]{43}$`, id)).MatchString(key) {
		t.Fatalf("key %q", key)
	}
	if n := b.count(t, `SELECT count(*) FROM api_keys WHERE id = $1 AND name = '咸阳市健康码子系统' AND city_code = '6104'
		AND created_by = $2 AND key_hash = $3`, id, staffID, tokenHash(key)); n != 1 {
		t.Fatal("api key row not as expected")
	}
	if n := b.count(t, `SELECT count(*) FROM audit_log WHERE action = 'apikey.create' AND object = $1
		AND region_code = '6104' AND role = 'ADMIN'`, fmt.Sprintf("apikey:%d", id)); n != 1 {
		t.Fatal("no apikey.create audit record")
	}

	a, err := b.db.Authenticate(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	want := healthcode.Actor{Kind: healthcode.ActorMachine, ID: id, Name: "咸阳市健康码子系统", SessionID: id, RegionCode: "6104"}
	if *a != want {
		t.Fatalf("actor %+v, want %+v", *a, want)
	}
	lastUsed := func() time.Time {
		var at time.Time
		if err := b.db.Pool.QueryRow(context.Background(), "SELECT last_used_at FROM api_keys WHERE id = $1", id).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	first := lastUsed()
	b.clock.Advance(30 * time.Second)
	if _, err := b.db.Authenticate(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if !lastUsed().Equal(first) {
		t.Fatal("last_used_at written twice within a minute")
	}
	b.clock.Advance(31 * time.Second)
	if _, err := b.db.Authenticate(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if !lastUsed().After(first) {
		t.Fatal("last_used_at not updated after a minute")
	}

	// Wrong secret with the right id, and another key's id with this secret.
	forged, _ := randomToken("")
	for _, tok := range []string{fmt.Sprintf("hck_%d_%s", id, forged), strings.Replace(key, fmt.Sprintf("hck_%d_", id), fmt.Sprintf("hck_%d_", id+1), 1)} {
		_, err := b.db.Authenticate(context.Background(), tok)
		authWantCode(t, err, healthcode.EUNAUTHENTICATED, "登录已失效，请重新登录")
	}

	// Revoked keys are refused.
	if _, err := b.db.Pool.Exec(context.Background(), "UPDATE api_keys SET revoked_at = now() WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
	_, err = b.db.Authenticate(context.Background(), key)
	authWantCode(t, err, healthcode.EUNAUTHENTICATED, "登录已失效，请重新登录")
}

func TestAPIKeyCreateRefused(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	staffID := b.addStaff(t, "weinan_admin", "6105")
	b.db.Authz = authTestAuthz{region: "6105"}
	staff := healthcode.NewContextWithActor(context.Background(),
		&healthcode.Actor{Kind: healthcode.ActorStaff, ID: staffID, Name: "weinan_admin"})

	_, _, err := b.db.CreateAPIKey(context.Background(), "6105", "x")
	authWantCode(t, err, healthcode.EUNAUTHENTICATED, "")
	resident := healthcode.NewContextWithActor(context.Background(), &healthcode.Actor{Kind: healthcode.ActorResident, ID: 1})
	_, _, err = b.db.CreateAPIKey(resident, "6105", "x")
	authWantCode(t, err, healthcode.EFORBIDDEN, "")
	_, _, err = b.db.CreateAPIKey(staff, "6101", "西安")
	authWantCode(t, err, healthcode.EFORBIDDEN, "")
	for _, code := range []string{"61", "610502", "6205", "61x5", "", "6199"} {
		_, _, err = b.db.CreateAPIKey(staff, code, "子系统")
		if code == "6199" {
			// Well formed but not a city of Shaanxi's tree; the fake
			// authorizer allows only 6105, so allow everything here.
			b.db.Authz = authTestAuthz{}
			_, _, err = b.db.CreateAPIKey(staff, code, "子系统")
			b.db.Authz = authTestAuthz{region: "6105"}
		}
		authWantCode(t, err, healthcode.EINVALID, "")
	}
	for _, name := range []string{"", "   ", strings.Repeat("名", 101)} {
		_, _, err = b.db.CreateAPIKey(staff, "6105", name)
		authWantCode(t, err, healthcode.EINVALID, "")
	}
	if n := b.count(t, "SELECT count(*) FROM api_keys"); n != 0 {
		t.Fatalf("%d api keys created by refused calls", n)
	}
}

func TestAuthPurgeExpired(t *testing.T) {
	t.Parallel()
	b := authSetup(t)
	ctx := context.Background()
	b.addStaff(t, "purged", "61")
	if _, err := b.db.Login(ctx, "purged", authTestPassword); err != nil {
		t.Fatal(err)
	}
	if err := b.db.RequestSMSCode(ctx, "13500000006"); err != nil {
		t.Fatal(err)
	}
	if n, err := b.db.PurgeExpiredAuth(ctx); err != nil || n != 0 {
		t.Fatalf("PurgeExpiredAuth = %d, %v; want 0, nil", n, err)
	}
	b.clock.Advance(2 * 24 * time.Hour) // codes older than a day go
	if n, err := b.db.PurgeExpiredAuth(ctx); err != nil || n != 1 {
		t.Fatalf("PurgeExpiredAuth = %d, %v; want 1 (the sms code), nil", n, err)
	}
	b.clock.Advance(7 * 24 * time.Hour) // 12h session expired > 7 days ago
	if n, err := b.db.PurgeExpiredAuth(ctx); err != nil || n != 1 {
		t.Fatalf("PurgeExpiredAuth = %d, %v; want 1 (the session), nil", n, err)
	}
	if b.count(t, "SELECT count(*) FROM sessions")+b.count(t, "SELECT count(*) FROM sms_codes") != 0 {
		t.Fatal("rows left after purge")
	}
}
