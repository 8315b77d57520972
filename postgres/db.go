// Package postgres implements the services of package healthcode on
// PostgreSQL through pgx: storage, jurisdiction checks, the audit log and the
// outbox. Every service method authorizes its caller here, below the
// transport, so GraphQL resolvers, workers and the CLI cannot bypass it.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"healthcode"
	"healthcode/pii"
)

// DB is the platform's database handle and the home of its services.
type DB struct {
	Pool *pgxpool.Pool
	// ReadPool, when set, serves the reads that tolerate a replica's lag of
	// a few seconds — the rankings and their reports (data computed daily)
	// — so that a streaming replica takes them off the primary
	// (READ_DATABASE_URL, docs/operations.md "Capacity plan"). Nil: Pool.
	ReadPool *pgxpool.Pool
	Clock    healthcode.Clock
	Authz    healthcode.Authorizer
	PII      *pii.Cipher
	Logger   *slog.Logger
	// GrantsChanged is called after a transaction that changed grants has
	// committed, so that the in-process enforcer reloads before the next
	// request. Other processes learn of it through NOTIFY grants_changed.
	GrantsChanged func()
	// StaffSessionTTL and ResidentSessionTTL bound session lifetimes
	// (defaults: 12 hours and 30 days).
	StaffSessionTTL    time.Duration
	ResidentSessionTTL time.Duration
	// ListenURL, when set, is where the listener connects instead of the
	// pool's settings (LISTEN_DATABASE_URL): LISTEN needs a session, so
	// behind PgBouncer in transaction mode the pool goes through it and
	// the listener goes to PostgreSQL directly (docs/operations.md).
	ListenURL string
	// AlertLimits overrides healthcode.DefaultAlertLimits per kind.
	AlertLimits map[healthcode.AlertKind]healthcode.AlertLimit
	// AlertRaised, when set, is called once per new abuse alert after its
	// transaction committed (the alerts_total metric).
	AlertRaised func(kind healthcode.AlertKind)
	// Listener is the process's LISTEN connection (NewListener sets it);
	// nil where nothing listens (the queue subscriptions then answer
	// UNAVAILABLE).
	Listener *Listener
	// ResidentCache, when set, keeps resident session lookups with their
	// own code (the code page without a statement); it must be watched by
	// Listener (WatchResidentCache). Nil: off (CODE_CACHE=off).
	ResidentCache *ResidentCache
	// grantsLoaded is the grants version LoadGrants last read (accessed
	// atomically; a plain int64 so that a copy of the handle stays legal).
	grantsLoaded int64
	// Dev enables dev-only behaviour: the dev SMS outbox is readable and the
	// clock may be moved. Never set in production.
	Dev bool
	// Guardianship says for whom a resident may declare as a guardian
	// without the community (nil: healthcode.DefaultGuardianship).
	Guardianship *healthcode.GuardianshipPolicy
}

// guardianship returns the guardianship policy in force.
func (db *DB) guardianship() healthcode.GuardianshipPolicy {
	if db.Guardianship != nil {
		return *db.Guardianship
	}
	return healthcode.DefaultGuardianship
}

// The storage side of the background tasks.
var (
	_ healthcode.Reevaluator    = (*DB)(nil)
	_ healthcode.AuthPurger     = (*DB)(nil)
	_ healthcode.SMSOutbox      = (*DB)(nil)
	_ healthcode.NationalPusher = (*NationalPush)(nil)
)

// reader is the pool of the reads that may go to a replica: ReadPool when
// set, Pool otherwise.
func (db *DB) reader() *pgxpool.Pool {
	if db.ReadPool != nil {
		return db.ReadPool
	}
	return db.Pool
}

// Open connects a pool to databaseURL. The caller sets the other fields.
func Open(ctx context.Context, databaseURL string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, nil
}

func (db *DB) now() time.Time {
	if db.Clock == nil {
		return time.Now()
	}
	return db.Clock.Now()
}

// Tx is a database transaction together with the time of the request: every
// row written in one transaction carries the same time.
type Tx struct {
	pgx.Tx
	db  *DB
	Now time.Time
	// grantsChanged is set by writes to grants; InTx notifies after commit.
	grantsChanged bool
	// raised are the abuse alerts this transaction inserted; InTx logs and
	// counts them after commit.
	raised []healthcode.Alert
	// auditHead caches the audit chain's head hash once this transaction
	// holds the chain lock, so many appends in one transaction read it once.
	auditHead *string
	// dirtyDays are the days whose indicator inputs this transaction
	// changed; InTx marks them just before the commit (MarkIndicatorDays).
	dirtyDays map[time.Time]bool
}

// InTx runs fn in a transaction and commits it when fn returns nil.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	ptx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{Tx: ptx, db: db, Now: db.now().UTC().Truncate(time.Microsecond)}
	defer ptx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.flushIndicatorDays(ctx); err != nil {
		return err
	}
	if tx.grantsChanged {
		if _, err := ptx.Exec(ctx, "SELECT pg_notify('grants_changed', '')"); err != nil {
			return fmt.Errorf("notify grants_changed: %w", err)
		}
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if tx.grantsChanged && db.GrantsChanged != nil {
		db.GrantsChanged()
	}
	db.ownWriteCommitted(ctx)
	for _, al := range tx.raised {
		db.alertRaised(al)
	}
	return nil
}

// useLtree registers the ltree codec on the transaction's connection (a
// lookup once per connection), so that COPY can send paths: COPY's binary
// format needs each column's codec, and pgx knows ltree only by name.
func (tx *Tx) useLtree(ctx context.Context) error {
	m := tx.Conn().TypeMap()
	if _, ok := m.TypeForName("ltree"); ok {
		return nil
	}
	var oid uint32
	if err := tx.QueryRow(ctx, "SELECT 'ltree'::regtype::oid").Scan(&oid); err != nil {
		return fmt.Errorf("look up ltree type: %w", err)
	}
	m.RegisterType(&pgtype.Type{Name: "ltree", OID: oid, Codec: pgtype.LtreeCodec{}})
	return nil
}

// MarkGrantsChanged records that this transaction changed grants, so that
// every enforcer reloads once it commits.
func (tx *Tx) MarkGrantsChanged() { tx.grantsChanged = true }

// Outbox writes a task to the outbox in this transaction; the relay enqueues
// it after commit. A non-empty dedupKey makes the write idempotent: a second
// write with the same key is ignored. It returns the outbox id (0 when the
// key was already present).
func (tx *Tx) Outbox(ctx context.Context, taskType string, payload []byte, dedupKey string) (int64, error) {
	return tx.OutboxAt(ctx, taskType, payload, dedupKey, tx.Now)
}

// OutboxAt is Outbox for a task the relay enqueues only from at on.
func (tx *Tx) OutboxAt(ctx context.Context, taskType string, payload []byte, dedupKey string, at time.Time) (int64, error) {
	var key *string
	if dedupKey != "" {
		key = &dedupKey
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO outbox (task_type, payload, dedup_key, created_at, available_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dedup_key) DO NOTHING RETURNING id`,
		taskType, payload, key, tx.Now, at).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("write outbox %s: %w", taskType, err)
	}
	// Wake the relay; PostgreSQL delivers one notification per transaction.
	if _, err := tx.Exec(ctx, "SELECT pg_notify('outbox', '')"); err != nil {
		return 0, fmt.Errorf("notify outbox: %w", err)
	}
	return id, nil
}

// mapError turns storage errors into domain errors where the cause is the
// caller's input; anything else is returned wrapped as is (INTERNAL).
func mapError(err error, notFound string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return healthcode.Errorf(healthcode.ENOTFOUND, "%s", notFound)
	}
	switch pgCode(err) {
	case pgerrcode.UniqueViolation:
		return healthcode.Errorf(healthcode.ECONFLICT, "记录已存在")
	case pgerrcode.CheckViolation, pgerrcode.InvalidTextRepresentation, pgerrcode.StringDataRightTruncationDataException:
		return healthcode.Errorf(healthcode.EINVALID, "输入不符合要求")
	}
	return err
}

// pgCode returns the SQLSTATE of a PostgreSQL error in err's chain, "" if
// there is none.
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// batch makes the results of a loader's batch of n keys (one value and one
// error per key) and fail, which gives err to every key.
func batch[T any](n int) (out []T, errs []error, fail func(error) ([]T, []error)) {
	out, errs = make([]T, n), make([]error, n)
	return out, errs, func(err error) ([]T, []error) {
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
}

// collectPage collects one page of a list read with LIMIT first+1 (keyset
// paging) and reports whether more rows follow; what names the list in an
// error.
func collectPage[T any](rows pgx.Rows, first int, what string, scan pgx.RowToFunc[T]) ([]T, bool, error) {
	list, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, false, fmt.Errorf("list %s: %w", what, err)
	}
	if len(list) > first {
		return list[:first], true, nil
	}
	return list, false, nil
}

// insideAny reports whether code lies inside one of regions (the result of
// scope or VisibleRegions).
func insideAny(code string, regions []string) bool {
	for _, r := range regions {
		if healthcode.RegionInside(code, r) {
			return true
		}
	}
	return false
}

// HoldsActivity reports whether the database holds persons, institutions
// (other than those with the credit codes in seeded: the dev mode's own
// demo checkpoint) or tickets: whether anyone has used the platform yet.
// The demo province generates its activity only on a database without any.
// Errors: storage errors.
func (db *DB) HoldsActivity(ctx context.Context, seeded ...string) (bool, error) {
	var busy bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM persons)
		OR EXISTS (SELECT 1 FROM institutions WHERE credit_code <> ALL($1::text[]))
		OR EXISTS (SELECT 1 FROM tickets)`, append([]string{}, seeded...)).Scan(&busy); err != nil {
		return false, fmt.Errorf("check for existing data: %w", err)
	}
	return busy, nil
}
