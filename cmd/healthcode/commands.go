package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"

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
	return p.httpServer().Run(ctx)
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

// runAudit checks the audit chain: `healthcode audit verify`.
func runAudit(ctx context.Context, cfg Config, args []string) error {
	if len(args) != 1 || args[0] != "verify" {
		return errors.New("usage: healthcode audit verify")
	}
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	db := &postgres.DB{Pool: pool}
	v, err := db.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if v.BrokenID != 0 {
		fmt.Printf("audit chain BROKEN at record %d: %s (%d records checked)\n", v.BrokenID, v.Problem, v.Checked)
		os.Exit(3)
	}
	fmt.Printf("audit chain intact: %d records checked\n", v.Checked)
	return nil
}
