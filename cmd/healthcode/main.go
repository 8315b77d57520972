// Command healthcode is the Shaanxi health code platform: the API server, the
// workers, migrations, seeding, the embedded dev platform and maintenance
// tools, in one binary.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

const usage = `healthcode — 陕西健康码平台

usage: healthcode <command> [arguments]

commands:
  dev [--no-demo-data]
                      start local PostgreSQL and Redis under $HEALTHCODE_DATA_DIR (default .data),
                      migrate, seed demo accounts
                      (and, on the first start, a demo province with two weeks of activity),
                      and run API, workers and web on one port
  serve               run the API and web server
  worker              run the job workers, the scheduler and the outbox relay
  migrate up|down|status
                      apply, revert or show database migrations
  seed [--synthetic N]
                      load demo accounts and optionally N synthetic persons (dev mode only)
  audit verify        check the audit log's hash chain against the signed anchors
  audit anchor        sign and publish the chain's head now
  purge [--dry-run]   delete, drop or anonymise personal data past its retention period
                      (RETENTION; --dry-run prints what would go and changes nothing)
  keys rotate [--prepublish]
                      --prepublish: publish the next signing key without signing with it;
                      then (a day later) make it the signing key, keeping old ones published
                      until their tokens expire
  keys add-data-key   add a personal-data key as a read key (the current key stays; see docs/operations.md)
  keys use-data-key N make personal-data key N the key new values are sealed under
  rekey [--dry-run] [--batch N] [--restart]
                      re-encrypt every personal-data column under the current key, in batches,
                      while the platform serves; resumes after an interruption
  verify <token> --keys keys.json [--revocations r.json] [--at time]
                      verify a health-code token offline (now, on the dev clock of
                      $HEALTHCODE_DATA_DIR when a dev platform keeps one there, or at --at)
  national-stub --public-key-file keys/national.pub
                      a development receiver of the daily national push
  testenv -- cmd      run cmd with throwaway PostgreSQL and Redis (make test)
  version             print the version

Configuration is read from the environment; see docs/operations.md.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	cfg, cerr := loadConfig()
	needsConfig := map[string]bool{"serve": true, "worker": true, "migrate": true, "seed": true, "dev": true, "audit": true, "keys": true, "purge": true, "rekey": true}
	if cerr != nil && needsConfig[cmd] {
		fmt.Fprintln(os.Stderr, "healthcode: configuration:", cerr)
		os.Exit(2)
	}
	switch cmd {
	case "serve":
		err = runServe(ctx, cfg)
	case "worker":
		err = runWorker(ctx, cfg)
	case "migrate":
		err = runMigrate(cfg, args)
	case "seed":
		err = runSeed(ctx, cfg, args)
	case "dev":
		err = runDev(ctx, cfg, args)
	case "audit":
		err = runAudit(ctx, cfg, args)
	case "purge":
		err = runPurge(ctx, cfg, args)
	case "keys":
		err = runKeys(cfg, args)
	case "rekey":
		err = runRekey(ctx, cfg, args, os.Stdout)
	case "verify":
		err = runVerify(args)
	case "national-stub":
		err = runNationalStub(ctx, args)
	case "testenv":
		err = runTestenv(ctx, args)
	case "version":
		fmt.Println("healthcode", Version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "healthcode: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcode:", err)
		os.Exit(1)
	}
}
