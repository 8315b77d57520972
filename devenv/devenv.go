// Package devenv starts project-local PostgreSQL and Redis servers from the
// system's binaries: the embedded default of `healthcode dev` (data under
// .data/, kept between starts) and the throwaway servers of `make test`.
//
// PostgreSQL refuses to run as root, so when the process is root the cluster
// is created and run as the `postgres` system user.
package devenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// Options configures Start.
type Options struct {
	// Dir holds the servers' data: Dir/postgres and Dir/redis.
	Dir string
	// PostgresPort and RedisPort are tried first; when taken (or 0) a free
	// port is used instead.
	PostgresPort int
	RedisPort    int
	// Database is created if missing; "healthcode" by default.
	Database string
	// Throwaway trades durability for speed (fsync off): for tests.
	Throwaway bool
	// Log receives the servers' output; nil discards it.
	Log io.Writer
	// Logger reports progress; nil uses slog.Default().
	Logger *slog.Logger
}

// Env is a running pair of servers.
type Env struct {
	// DatabaseURL connects as the owner (postgres): for migrations.
	DatabaseURL string
	// AppDatabaseURL connects to the same database as the least-privileged
	// application role (AppRole): for the platform itself.
	AppDatabaseURL string
	RedisURL       string
	// AdminURL connects to the maintenance database "postgres".
	AdminURL string

	pg, rd *exec.Cmd
	done   map[*exec.Cmd]chan error
	// newPG and newRedis build the server commands (for restarts).
	newPG, newRedis func() *exec.Cmd
}

// Start initialises (on first use) and starts PostgreSQL and Redis under
// opts.Dir and waits until both answer. Stop them with Env.Stop.
func Start(ctx context.Context, opts Options) (_ *Env, err error) {
	if opts.Database == "" {
		opts.Database = "healthcode"
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", opts.Dir, err)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	env := &Env{done: map[*exec.Cmd]chan error{}}
	defer func() {
		if err != nil {
			env.Stop()
		}
	}()

	bin, err := PostgresBinDir()
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	pgData := filepath.Join(dir, "postgres")
	if _, err := os.Stat(filepath.Join(pgData, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		log.Info("initialising PostgreSQL cluster", "dir", pgData)
		if err := os.MkdirAll(pgData, 0o700); err != nil {
			return nil, err
		}
		if err := chown(pgData, cred); err != nil {
			return nil, err
		}
		initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", pgData, "-U", "postgres",
			"--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
		initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := initdb.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("initdb: %w: %s", err, out)
		}
	}
	pgPort := pickPort(opts.PostgresPort)
	args := []string{"-D", pgData, "-p", strconv.Itoa(pgPort), "-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=", "-c", "max_connections=300"}
	if opts.Throwaway {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	env.newPG = func() *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGTERM}
		cmd.Stdout, cmd.Stderr = opts.Log, opts.Log
		return cmd
	}
	env.pg = env.newPG()
	if err := env.start(env.pg); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	env.AdminURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pgPort)
	env.DatabaseURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", pgPort, opts.Database)
	env.AppDatabaseURL = fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", AppRole, pgPort, opts.Database)
	if err := env.waitPostgres(ctx, opts.Database); err != nil {
		return nil, err
	}

	redisBin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not found: install it (apt-get install -y redis-server)")
	}
	rdData := filepath.Join(dir, "redis")
	if err := os.MkdirAll(rdData, 0o700); err != nil {
		return nil, err
	}
	rdPort := pickPort(opts.RedisPort)
	rargs := []string{"--port", strconv.Itoa(rdPort), "--bind", "127.0.0.1", "--dir", rdData,
		"--daemonize", "no", "--protected-mode", "yes", "--save", "", "--databases", "64"}
	if opts.Throwaway {
		rargs = append(rargs, "--appendonly", "no")
	} else {
		rargs = append(rargs, "--appendonly", "yes")
	}
	env.newRedis = func() *exec.Cmd {
		cmd := exec.Command(redisBin, rargs...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
		cmd.Stdout, cmd.Stderr = opts.Log, opts.Log
		return cmd
	}
	env.rd = env.newRedis()
	if err := env.start(env.rd); err != nil {
		return nil, fmt.Errorf("start redis: %w", err)
	}
	env.RedisURL = fmt.Sprintf("redis://127.0.0.1:%d/0", rdPort)
	if err := env.waitRedis(ctx); err != nil {
		return nil, err
	}
	log.Info("local services ready", "postgres", env.DatabaseURL, "redis", env.RedisURL)
	return env, nil
}

func (e *Env) start(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	ch := make(chan error, 1)
	e.done[cmd] = ch
	go func() { ch <- cmd.Wait() }()
	return nil
}

func (e *Env) exited(cmd *exec.Cmd) error {
	select {
	case err := <-e.done[cmd]:
		e.done[cmd] <- err
		if err == nil {
			err = errors.New("exited")
		}
		return err
	default:
		return nil
	}
}

func (e *Env) waitPostgres(ctx context.Context, db string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := e.exited(e.pg); err != nil {
			return fmt.Errorf("postgres stopped during start-up (see its log): %w", err)
		}
		conn, err := pgx.Connect(ctx, e.AdminURL)
		if err == nil {
			defer conn.Close(ctx)
			var exists bool
			if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil {
				return fmt.Errorf("look up database: %w", err)
			}
			if !exists {
				if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
					return fmt.Errorf("create database: %w", err)
				}
			}
			return EnsureAppRole(ctx, conn)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (e *Env) waitRedis(ctx context.Context) error {
	opt, _ := redis.ParseURL(e.RedisURL)
	c := redis.NewClient(opt)
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := e.exited(e.rd); err != nil {
			return fmt.Errorf("redis stopped during start-up: %w", err)
		}
		err := c.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis did not answer: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// KillRedis kills Redis with SIGKILL and waits for it to exit (fault
// tests). Errors: Redis is not running.
func (e *Env) KillRedis() error {
	return e.kill(e.rd, syscall.SIGKILL)
}

// StartRedis starts Redis again on its port after KillRedis and waits until
// it answers. A throwaway Redis (no persistence) comes back empty.
func (e *Env) StartRedis(ctx context.Context) error {
	if e.rd != nil && e.exited(e.rd) == nil {
		return errors.New("redis is running")
	}
	e.rd = e.newRedis()
	if err := e.start(e.rd); err != nil {
		return fmt.Errorf("start redis: %w", err)
	}
	return e.waitRedis(ctx)
}

// StopPostgres shuts PostgreSQL down in fast mode (open connections are
// terminated) and waits for it to exit (fault tests).
func (e *Env) StopPostgres() error {
	return e.kill(e.pg, syscall.SIGINT)
}

// StartPostgres starts PostgreSQL again on its port after StopPostgres and
// waits until it accepts connections.
func (e *Env) StartPostgres(ctx context.Context, db string) error {
	if e.pg != nil && e.exited(e.pg) == nil {
		return errors.New("postgres is running")
	}
	e.pg = e.newPG()
	if err := e.start(e.pg); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	return e.waitPostgres(ctx, db)
}

// kill sends sig to cmd and waits for it to exit.
func (e *Env) kill(cmd *exec.Cmd, sig syscall.Signal) error {
	if cmd == nil || cmd.Process == nil || e.exited(cmd) != nil {
		return errors.New("not running")
	}
	if err := cmd.Process.Signal(sig); err != nil {
		return err
	}
	ch := e.done[cmd]
	select {
	case err := <-ch:
		ch <- err
		return nil
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		return errors.New("did not exit within a minute")
	}
}

// Stop shuts both servers down cleanly (PostgreSQL in fast mode, Redis with
// SIGTERM) and waits for them. It is safe to call more than once.
func (e *Env) Stop() {
	for _, cmd := range []*exec.Cmd{e.rd, e.pg} {
		if cmd == nil || cmd.Process == nil {
			continue
		}
		ch := e.done[cmd]
		if e.exited(cmd) != nil {
			continue
		}
		sig := syscall.SIGTERM
		if cmd == e.pg {
			sig = syscall.SIGINT // fast shutdown
		}
		_ = cmd.Process.Signal(sig)
		select {
		case err := <-ch:
			ch <- err
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
	}
}

// PostgresBinDir finds the directory of the PostgreSQL server binaries:
// $PG_BIN, then the newest /usr/lib/postgresql/*/bin, then pg_config.
func PostgresBinDir() (string, error) {
	if d := os.Getenv("PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries not found: install them (apt-get install -y postgresql) or set PG_BIN")
}

// postgresCredential returns the credential to run PostgreSQL with: the
// postgres user when running as root, nil (the current user) otherwise.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("running as root needs the postgres system user (apt-get install -y postgresql creates it)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func chown(path string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	if err := os.Chown(path, int(cred.Uid), int(cred.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	return nil
}

// Traversable reports whether the postgres user (when running as root) can
// reach dir: every ancestor must be searchable by others. Callers choose
// another place for the data when it is not.
func Traversable(dir string) bool {
	if os.Geteuid() != 0 {
		return true
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if p == "/" {
			return true
		}
	}
}

// pickPort returns preferred when it is free, else a free port.
func pickPort(preferred int) int {
	if preferred > 0 {
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", preferred)); err == nil {
			l.Close()
			return preferred
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return preferred
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// AppRole is the least-privileged role the platform connects as; the
// migrations grant it what it needs (migrations 000001 and 000030): no
// superuser, no DDL, no UPDATE or DELETE on audit_log.
const AppRole = "healthcode_app"

// EnsureAppRole creates AppRole (LOGIN, no other attribute; the local
// servers trust local connections) when the cluster has none. Start calls
// it before anything migrates; the test template does too. Errors: the
// server's.
func EnsureAppRole(ctx context.Context, conn *pgx.Conn) error {
	_, err := conn.Exec(ctx, `DO $$ BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '`+AppRole+`') THEN
			CREATE ROLE `+AppRole+` LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
		END IF;
	EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; -- created concurrently
	END $$`)
	if err != nil {
		return fmt.Errorf("create role %s: %w", AppRole, err)
	}
	return nil
}
