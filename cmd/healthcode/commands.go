package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"healthcode"
	"healthcode/credential"
	"healthcode/demo"
	"healthcode/migrations"
	"healthcode/postgres"
)

// runServe runs the API and web server until ctx ends.
func runServe(ctx context.Context, cfg Config) error {
	log := cfg.logger()
	p, err := openPlatform(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer p.close()
	// Serve only once grant changes are heard: before that a revoked grant
	// could be honoured.
	if err := p.listen(ctx); err != nil {
		return nil // stopped before the database answered
	}
	log.Info("serving", "addr", cfg.HTTPAddr, "dev", cfg.Dev)
	return p.httpServer(ctx).Run(ctx)
}

// runMigrate applies, reverts or reports migrations.
func runMigrate(cfg Config, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: healthcode migrate up | down [N] | status")
	}
	switch args[0] {
	case "up":
		if err := migrations.Up(cfg.DatabaseURL); err != nil {
			return err
		}
		fmt.Println("migrations applied")
	case "down":
		n := 1
		if len(args) > 1 {
			if args[1] == "all" {
				n = 0
			} else if v, err := strconv.Atoi(args[1]); err == nil && v > 0 {
				n = v
			} else {
				return fmt.Errorf("migrate down: want a positive count or 'all', got %q", args[1])
			}
		}
		if err := migrations.Down(cfg.DatabaseURL, n); err != nil {
			return err
		}
		fmt.Println("migrations reverted")
	case "status":
		st, err := migrations.GetStatus(cfg.DatabaseURL)
		if err != nil {
			return err
		}
		fmt.Printf("version %d of %d", st.Version, st.Latest)
		if st.Dirty {
			fmt.Print(" (dirty: the last migration failed half-way; fix it, then force the version)")
		}
		if len(st.Pending) > 0 {
			fmt.Printf(", pending: %v", st.Pending)
		}
		fmt.Println()
	default:
		return fmt.Errorf("migrate: unknown action %q (up, down, status)", args[0])
	}
	return nil
}

// runSeed loads the demo accounts and, with --synthetic N, N synthetic
// persons; dev mode only.
func runSeed(ctx context.Context, cfg Config, args []string) error {
	if !cfg.Dev {
		return errors.New("seed: demo accounts exist only in dev mode (set HEALTHCODE_DEV=true)")
	}
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	synthetic := fs.Int("synthetic", 0, "also create N synthetic persons (dev mode only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("usage: healthcode seed [--synthetic N]")
	}
	log := cfg.logger()
	p, err := openPlatform(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer p.close()
	if err := demo.SeedAccounts(ctx, p.db); err != nil {
		return err
	}
	if err := demo.SeedCheckpoint(ctx, p.db); err != nil {
		return err
	}
	fmt.Printf("demo accounts ready (password %s)\n", demo.Password)
	if *synthetic > 0 {
		return runSeedSynthetic(ctx, cfg, *synthetic)
	}
	return nil
}

// runPurge enforces the retention periods now: `healthcode purge
// [--dry-run]`, on the dev clock in dev mode.
func runPurge(ctx context.Context, cfg Config, args []string) error {
	fs := flag.NewFlagSet("purge", flag.ContinueOnError)
	dryRun := fs.Bool("dry-run", false, "print what would go and change nothing")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errors.New("usage: healthcode purge [--dry-run]")
	}
	db, err := commandDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Pool.Close()
	items, err := db.PurgeExpiredData(ctx, cfg.Retention, *dryRun)
	if err != nil {
		return err
	}
	verb := "purged"
	if *dryRun {
		verb = "would purge"
	}
	for _, it := range items {
		fmt.Printf("%-12s %-28s before %s  %s %d rows\n", it.Kind, it.Action, it.Before.In(healthcode.CST).Format("2006-01-02 15:04"), verb, it.Rows)
	}
	return nil
}

// commandDB opens the database for a one-off command, on the dev clock in
// dev mode.
func commandDB(ctx context.Context, cfg Config) (*postgres.DB, error) {
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	db := &postgres.DB{Pool: pool, Clock: healthcode.SystemClock{}}
	if cfg.Dev {
		clock := &healthcode.OffsetClock{}
		db.Clock = clock
		if err := (&postgres.DevClock{DB: db, Clock: clock}).Load(ctx); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return db, nil
}

// runRekey re-encrypts the personal data under the current personal-data
// key: `healthcode rekey [--dry-run] [--batch N] [--restart]`
// (docs/operations.md "Rotating the personal-data key"). Safe while the
// platform serves; an interrupted run resumes.
func runRekey(ctx context.Context, cfg Config, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("rekey", flag.ContinueOnError)
	dryRun := fs.Bool("dry-run", false, "count the values not under the current key, from the first row, and change nothing")
	batch := fs.Int("batch", 500, "rows per transaction")
	restart := fs.Bool("restart", false, "ignore the saved progress and scan every table from its first row")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *batch < 1 || *batch > 10000 {
		return errors.New("usage: healthcode rekey [--dry-run] [--batch 1..10000] [--restart]")
	}
	cipher, err := cfg.loadCipher()
	if err != nil {
		return err
	}
	db, err := commandDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Pool.Close()
	db.PII = cipher
	fmt.Fprintf(out, "key ring %v, current key %d\n", cipher.KeyIDs(), cipher.Current())
	verb := "re-encrypted"
	if *dryRun {
		verb = "to re-encrypt"
	}
	res, err := db.Rekey(ctx, postgres.RekeyOptions{BatchSize: *batch, DryRun: *dryRun, Restart: *restart,
		Progress: func(p postgres.RekeyProgress) {
			if !p.Done {
				fmt.Fprintf(out, "%-18s up to id %-10d scanned %-8d %s %d\n", p.Table, p.LastID, p.Scanned, verb, p.Rewritten)
			}
		}})
	stale := 0
	for _, p := range res {
		fmt.Fprintf(out, "%-18s done: scanned %d rows, %s %d; values per key %v\n", p.Table, p.Scanned, verb, p.Rewritten, p.ByKey)
		stale += p.Rewritten
	}
	if err != nil {
		return err
	}
	if *dryRun {
		fmt.Fprintf(out, "%d rows hold values under other keys than %d\n", stale, cipher.Current())
	}
	return nil
}

// runAudit checks the audit chain against the published anchors, or signs
// one more anchor: `healthcode audit verify | anchor`.
func runAudit(ctx context.Context, cfg Config, args []string) error {
	if len(args) != 1 || (args[0] != "verify" && args[0] != "anchor") {
		return errors.New("usage: healthcode audit verify | anchor")
	}
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	db := &postgres.DB{Pool: pool}
	ring, err := credential.LoadKeyRing(cfg.KeyDir, credential.IssuerProvince, false)
	if err != nil {
		return fmt.Errorf("load signing keys from %s: %w", cfg.KeyDir, err)
	}
	anchors := &postgres.AuditAnchors{DB: db, Ring: ring, Path: filepath.Join(cfg.KeyDir, postgres.AuditAnchorFile)}
	if args[0] == "anchor" {
		a, err := anchors.AnchorAudit(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("audit chain anchored at record %d (key %s)\n", a.Seq, a.Kid)
		return nil
	}
	valid, problems, err := anchors.Load()
	if err != nil {
		return err
	}
	v, err := db.VerifyAuditAnchored(ctx, valid)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Printf("anchor REJECTED: %s\n", p)
	}
	if v.BrokenID != 0 {
		fmt.Printf("audit chain BROKEN at record %d: %s (%d records checked)\n", v.BrokenID, v.Problem, v.Checked)
		os.Exit(3)
	}
	if len(problems) > 0 {
		os.Exit(3)
	}
	fmt.Printf("audit chain intact: %d records checked against %d anchors (newest: record %d)\n", v.Checked, v.Anchors, v.Anchored)
	return nil
}
