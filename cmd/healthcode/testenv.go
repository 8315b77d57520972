package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// runTestenv starts throwaway PostgreSQL and Redis servers on free ports,
// runs the given command with TEST_DATABASE_URL and TEST_REDIS_URL set, stops
// the servers and exits with the command's status. `make test` uses it.
func runTestenv(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("testenv", flag.ExitOnError)
	keep := fs.Bool("keep", false, "keep the data directory after the run")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: healthcode testenv [-keep] -- command [args...]")
	}
	_ = fs.Parse(args)
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("no command given")
	}
	dir, err := os.MkdirTemp("", "healthcode-test-")
	if err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	log, err := os.Create(dir + "/servers.log")
	if err != nil {
		return err
	}
	defer log.Close()
	env, err := startServices(ctx, dir, 0, 0, true, log)
	if err != nil {
		return err
	}
	defer env.Stop()

	cmd := exec.CommandContext(ctx, fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "TEST_DATABASE_URL="+env.AdminURL, "TEST_REDIS_URL="+env.RedisURL)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	signal.Ignore(syscall.SIGINT) // the child gets the terminal's Ctrl-C itself
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		env.Stop()
		os.RemoveAll(dir)
		os.Exit(exit.ExitCode())
	}
	return err
}
