package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"healthcode/demo"
	"healthcode/devenv"
	"healthcode/migrations"
	"healthcode/web"
)

// Dev-mode defaults: fixed ports so URLs stay the same between starts (other
// free ports are used when these are taken).
const (
	devPostgresPort = 54329
	devRedisPort    = 63799
	devHTTPAddr     = "127.0.0.1:8080"
)

// runDev is the embedded default: local PostgreSQL and Redis under
// HEALTHCODE_DATA_DIR (default .data), migrations, demo data, and API +
// workers + web in one process.
//
// On the first start (an empty database) it also generates the demo
// activity (demo.Activity): a synthetic population and two weeks of
// scans, tickets, reports and indicators. `healthcode dev --no-demo-data` or
// HEALTHCODE_DEMO_DATA=false skips it.
func runDev(ctx context.Context, cfg Config, args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	noDemo := fs.Bool("no-demo-data", !envBool("HEALTHCODE_DEMO_DATA", true),
		"do not generate the demo activity on the first start (also HEALTHCODE_DEMO_DATA=false)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("usage: healthcode dev [--no-demo-data]")
	}
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
	// Migrations run as the owner; the platform connects as the
	// least-privileged application role.
	cfg.RedisURL = env.RedisURL
	if err := migrations.Up(env.DatabaseURL); err != nil {
		return err
	}
	cfg.DatabaseURL = env.AppDatabaseURL
	p, err := openPlatform(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer p.close()
	// The offline verifier follows the dev clock through the data directory.
	p.devClock.OnChange = func(offset time.Duration) {
		if err := writeDevClock(dataDir, offset); err != nil {
			log.Warn("the offline verifier will not follow the dev clock", "err", err)
		}
	}
	p.devClock.OnChange(p.devClock.Clock.Offset())
	if off := p.devClock.Clock.Offset(); off != 0 {
		log.Info("the dev clock of the last run goes on", "now", p.clock.Now().Format(time.RFC3339), "ahead", off.Round(time.Second).String())
	}
	if err := demo.SeedAccounts(ctx, p.db); err != nil {
		return err
	}
	if err := demo.SeedCheckpoint(ctx, p.db); err != nil {
		return err
	}
	if err := p.enforcer.Reload(ctx); err != nil {
		return err
	}
	if !*noDemo {
		log.Info("generating the demo activity if the database is empty (skip with --no-demo-data)")
		gen := &demo.Activity{DB: p.db, Ring: p.ring, JointMeetingDue: cfg.JointMeetingDue, RankingPolicy: cfg.RankingPolicy}
		sum, err := gen.Generate(ctx)
		if err != nil {
			return fmt.Errorf("demo activity: %w (start again with --no-demo-data to skip it)", err)
		}
		log.Info(sum.String())
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set HTTP_ADDR to another address)", cfg.HTTPAddr, err)
	}
	// Metrics on their own loopback listener: METRICS_ADDR, or a free port
	// (several dev platforms may run on one machine).
	maddr := cfg.MetricsAddr
	if os.Getenv("METRICS_ADDR") == "" {
		maddr = "127.0.0.1:0"
	}
	var mln net.Listener
	if maddr != "off" {
		if mln, err = net.Listen("tcp", maddr); err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s: %w (set METRICS_ADDR to another address)", maddr, err)
		}
	}
	fmt.Print(banner(ln.Addr().String(), mln, env, dataDir))

	g, gctx := errgroup.WithContext(ctx)
	if err := p.listen(gctx); err != nil {
		return nil
	}
	srv := p.httpServer(gctx)
	g.Go(func() error { return srv.Serve(gctx, ln) })
	if mln != nil {
		g.Go(func() error { return srv.ServeMetrics(gctx, mln) })
	}
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

// banner is what `healthcode dev` prints once it serves: the URLs, the
// servers, the demo logins and the directory that keeps the data (dataDir,
// shown as an absolute path: HEALTHCODE_DATA_DIR or the default .data).
func banner(addr string, metrics net.Listener, env *devenv.Env, dataDir string) string {
	host, port, _ := net.SplitHostPort(addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port)
	var b strings.Builder
	fmt.Fprintf(&b, "\n陕西健康码平台 (dev) is running\n\n")
	fmt.Fprintf(&b, "  web:      %s/\n", url)
	if !web.Built() {
		fmt.Fprintf(&b, "            (front end not built: install Node.js 20+ and run make build)\n")
	} else {
		fmt.Fprintf(&b, "            residents: any phone number; the login page shows the SMS code in dev mode\n")
	}
	fmt.Fprintf(&b, "  GraphiQL: %s/graphql\n", url)
	if metrics != nil {
		fmt.Fprintf(&b, "  metrics:  http://%s/metrics (loopback only)\n", metrics.Addr().String())
	}
	fmt.Fprintf(&b, "  database: %s\n  redis:    %s\n\n", env.DatabaseURL, env.RedisURL)
	fmt.Fprintf(&b, "demo logins (password %q):\n", demo.Password)
	for _, d := range demo.Accounts {
		fmt.Fprintf(&b, "  %-16s %s (%s @ %s)\n", d.Username, d.DisplayName, d.Role, d.RegionCode)
	}
	fmt.Fprintf(&b, "  %-16s 雁塔区防疫员（演示）, the scanner at %s/scan/ (INSPECTOR of a demo checkpoint in 610113)\n",
		demo.Inspector, url)
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	fmt.Fprintf(&b, "\nPress Ctrl-C to stop. Data is kept under %s for the next start.\n\n", dataDir)
	return b.String()
}

// envBool reads a boolean environment variable (strconv.ParseBool); unset or
// unparsable gives def.
func envBool(name string, def bool) bool {
	if b, err := strconv.ParseBool(os.Getenv(name)); err == nil {
		return b
	}
	return def
}
