package healthcode

import (
	"context"
	"time"
)

// Session is a logged-in session. The bearer token is returned once, at login;
// the database keeps only its hash.
type Session struct {
	ID        int64
	Token     string // only set on the value returned by a login
	Kind      ActorKind
	ExpiresAt time.Time
}

// SMSCodeTTL is how long an SMS login code stays valid.
const SMSCodeTTL = 5 * time.Minute

// AuthService authenticates callers and manages sessions.
type AuthService interface {
	// Login checks a staff username and password and opens a session — any
	// caller. Failed attempts are throttled per (username, client address)
	// with growing delays; no account is ever locked for everyone.
	// Errors: UNAUTHENTICATED (wrong username or password, one answer for
	// all), RATE_LIMITED (throttled, or the server sheds load).
	Login(ctx context.Context, username, password string) (*Session, error)
	// RequestSMSCode sends a 6-digit login code to phone. Sending is limited per
	// phone and per client address. Errors: INVALID (phone), RATE_LIMITED.
	RequestSMSCode(ctx context.Context, phone string) error
	// LoginResident checks an SMS code and opens a resident session, creating
	// the resident account on first login. Codes expire after 5 minutes; five
	// wrong codes lock the phone for 15 minutes.
	// Errors: INVALID (phone), UNAUTHENTICATED (wrong or expired code), RATE_LIMITED.
	LoginResident(ctx context.Context, phone, code string) (*Session, error)
	// Logout revokes the caller's session. Errors: UNAUTHENTICATED.
	Logout(ctx context.Context) error
	// Authenticate resolves a bearer token (session token or API key) to an
	// actor. Entry points call it before anything else.
	// Errors: UNAUTHENTICATED (unknown, expired, revoked or malformed token).
	Authenticate(ctx context.Context, token string) (*Actor, error)
	// CreateAPIKey creates an API key for a city sub-system, scoped to the city,
	// and returns the key once. The caller needs apikey.manage at the city.
	// Errors: UNAUTHENTICATED, FORBIDDEN, INVALID (not a city, empty name).
	CreateAPIKey(ctx context.Context, cityCode, name string) (key string, id int64, err error)
}

// SMSMessage is one text message to one phone.
type SMSMessage struct {
	Phone string
	Text  string
	// Key identifies the message for deduplication by the gateway.
	Key string
}

// SMSSender delivers text messages. The dev sender records them in a table;
// the gateway sender calls the operator's SMS gateway.
type SMSSender interface {
	// Send delivers one message. Implementations must be safe for concurrent use.
	Send(ctx context.Context, msg SMSMessage) error
}

// SMSOutbox opens the sealed messages of notify:sms tasks and records their
// delivery. The task handler calls it.
type SMSOutbox interface {
	// OpenSMS decrypts a notify:sms payload. Errors: INVALID for a payload
	// that does not decode or decrypt (not to be retried).
	OpenSMS(payload []byte) (SMSMessage, error)
	// DeliverOnce runs deliver at most once per outbox id. Errors: those of
	// deliver, storage errors.
	DeliverOnce(ctx context.Context, outboxID int64, deliver func(ctx context.Context) error) error
}

// AuthPurger deletes expired authentication state (sessions, SMS codes,
// lockouts) and returns how many rows it removed. The maintenance task calls
// it; it checks no grants. Errors: storage errors.
type AuthPurger interface {
	PurgeExpiredAuth(ctx context.Context) (int64, error)
}

// DevMessage is a text message recorded by the dev SMS sender; the dev-only
// devMessages query returns them.
type DevMessage struct {
	ID     int64
	Body   string
	SentAt time.Time
}
