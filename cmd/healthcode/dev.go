package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"

	"healthcode/devenv"
	"healthcode/migrations"
	"healthcode/postgres"
)

// Dev-mode defaults: fixed ports so URLs stay the same between starts (other
// free ports are used when these are taken).
const (
	devPostgresPort = 54329
	devRedisPort    = 63799
	devHTTPAddr     = "127.0.0.1:8080"
)

// runDev is the embedded default: local PostgreSQL and Redis under .data/,
// migrations, demo data, and API + workers + web in one process.
func runDev(ctx context.Context, cfg Config) error {
	cfg.Dev = true
	log := cfg.logger()
	dataDir := env("HEALTHCODE_DATA_DIR", ".data")
	if !devenv.Traversable(dataDir) {
		abs, _ := filepath.Abs(dataDir)
		alt := filepath.Join("/var/lib/healthcode-dev", strings.NewReplacer("/", "_").Replace(abs))
		log.Warn("the postgres user cannot reach the data directory; using another", "wanted", abs, "using", alt)
		dataDir = alt
	}
	if os.Getenv("HEALTHCODE_KEY_DIR") == "" {
		cfg.KeyDir = filepath.Join(dataDir, "keys")
	}
	if os.Getenv("HTTP_ADDR") == "" {
		cfg.HTTPAddr = devHTTPAddr
	}
	logFile, err := os.OpenFile(filepath.Join(mkdir(dataDir), "servers.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	env, err := devenv.Start(ctx, devenv.Options{
		Dir: dataDir, PostgresPort: devPostgresPort, RedisPort: devRedisPort, Log: logFile, Logger: log,
	})
	if err != nil {
		return err
	}
	defer env.Stop()
	cfg.DatabaseURL, cfg.RedisURL = env.DatabaseURL, env.RedisURL

	if err := migrations.Up(cfg.DatabaseURL); err != nil {
		return err
	}
	p, err := openPlatform(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer p.close()
	if err := p.db.SeedDemo(ctx); err != nil {
		return err
	}
	if err := p.enforcer.Reload(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set HTTP_ADDR to another address)", cfg.HTTPAddr, err)
	}
	printBanner(ln.Addr().String(), env)

	g, gctx := errgroup.WithContext(ctx)
	p.listenGrants(gctx)
	g.Go(func() error { return p.httpServer().Serve(gctx, ln) })
	g.Go(func() error { return p.runWorkers(gctx) })
	err = g.Wait()
	log.Info("stopped; data kept for the next start", "dir", dataDir)
	if ctx.Err() != nil {
		return nil // Ctrl-C
	}
	return err
}

func mkdir(dir string) string {
	_ = os.MkdirAll(dir, 0o755)
	return dir
}

func printBanner(addr string, env *devenv.Env) {
	host, port, _ := net.SplitHostPort(addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port)
	var b strings.Builder
	fmt.Fprintf(&b, "\n陕西健康码平台 (dev) is running\n\n")
	fmt.Fprintf(&b, "  web:      %s/\n", url)
	fmt.Fprintf(&b, "  GraphiQL: %s/graphql\n", url)
	fmt.Fprintf(&b, "  metrics:  %s/metrics\n", url)
	fmt.Fprintf(&b, "  database: %s\n  redis:    %s\n\n", env.DatabaseURL, env.RedisURL)
	fmt.Fprintf(&b, "demo logins (password %q):\n", postgres.DemoPassword)
	for _, d := range postgres.DemoAccounts {
		fmt.Fprintf(&b, "  %-14s %s (%s @ %s)\n", d.Username, d.DisplayName, d.Role, d.RegionCode)
	}
	fmt.Fprintf(&b, "\nPress Ctrl-C to stop. Data is kept under .data/ for the next start.\n\n")
	fmt.Print(b.String())
}
