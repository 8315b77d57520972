package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"healthcode"
	"healthcode/credential"
	"healthcode/pii"
)

// runKeys manages the signing keys: `healthcode keys rotate --prepublish`
// publishes the next key without signing with it; `healthcode keys rotate`
// makes it (or, without a prepublished key, a fresh one; the first one when
// there is none) the active key, keeps the previous keys published until
// every token they signed has expired, and prunes keys past that point. Run
// it from one process only (e.g. a monthly cron job: prepublish, then rotate
// a day later).
//
// `healthcode keys add-data-key` and `keys use-data-key N` are the first two
// steps of a rotation of the personal-data key (docs/operations.md).
func runKeys(cfg Config, args []string) error {
	switch {
	case len(args) == 1 && args[0] == "add-data-key":
		id, err := pii.AddDataKey(cfg.KeyDir)
		if err != nil {
			return err
		}
		c, err := pii.LoadKeyDir(cfg.KeyDir)
		if err != nil {
			return err
		}
		fmt.Printf("added personal-data key %d (data.%d.key); key ring %v, current key %d; lookup key pinned in %s\n",
			id, id, c.KeyIDs(), c.Current(), pii.LookupKeyFile)
		return nil
	case len(args) == 2 && args[0] == "use-data-key":
		id, err := strconv.ParseUint(args[1], 10, 32)
		if err != nil {
			return fmt.Errorf("not a key id: %q", args[1])
		}
		if err := pii.UseDataKey(cfg.KeyDir, uint32(id)); err != nil {
			return err
		}
		fmt.Printf("personal-data key %d is current (restart the replicas one by one, then run healthcode rekey)\n", id)
		return nil
	}
	prepublish := len(args) == 2 && args[0] == "rotate" && args[1] == "--prepublish"
	if !prepublish && (len(args) != 1 || args[0] != "rotate") {
		return errors.New("usage: healthcode keys rotate [--prepublish] | add-data-key | use-data-key N")
	}
	ring, err := credential.LoadKeyRing(cfg.KeyDir, credential.IssuerProvince, true)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	now := time.Now()
	if prepublish {
		kid, err := ring.Prepublish(now)
		if err != nil {
			return err
		}
		fmt.Printf("key %s published, not yet signing (key %s signs); distribute the directory, restart the replicas, "+
			"and run healthcode keys rotate once scanners have refreshed their key set (at least %s)\n",
			kid, ring.Active().Kid, prepublishLead)
		return nil
	}
	if ring.Standby() == "" {
		fmt.Printf("warning: no key was prepublished (keys rotate --prepublish): scanners learn the new key only at their next refresh\n")
	}
	kid, err := ring.Rotate(now, credential.PaperTokenLifetime+credential.DefaultSkew+rolloutMargin)
	if err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	pruned, err := ring.Prune(now)
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	fmt.Printf("active key %s; %d keys published; pruned %v\n", kid, len(ring.PublicKeys(now)), pruned)
	return nil
}

// prepublishLead is how long a prepublished signing key should be published
// before it signs: scanners refresh their key set hourly and retry with
// backoff when offline (docs/scanning.md), so a day covers a scanner that
// missed a few refreshes.
const prepublishLead = 24 * time.Hour

// rolloutMargin keeps a retired signing key published that much longer than
// its tokens live: replicas that have not yet loaded the rotated directory
// keep signing with it until they restart.
const rolloutMargin = 24 * time.Hour

// runVerify verifies a token offline: `healthcode verify <token> --keys
// keys.json [--revocations revocations.json] [--at time]`
// (docs/scanning.md). It exits 1 with the reason when the token does not
// verify.
func runVerify(args []string) error {
	valid, err := verifyOffline(args, os.Stdout, os.Stderr)
	if err == nil && !valid {
		os.Exit(1)
	}
	return err
}

// verifyOffline verifies the token of args and prints the result to out
// (notes to errOut). The time of the check is --at when given; else the
// wall clock, shifted by the dev clock that `healthcode dev` keeps in
// HEALTHCODE_DATA_DIR (default .data) when there is one, so that the tokens
// a dev platform signs on its clock verify here too.
func verifyOffline(args []string, out, errOut io.Writer) (valid bool, err error) {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(errOut)
	keys := fs.String("keys", "", "key set file (keys.json); - for standard input")
	revs := fs.String("revocations", "", "revocation list file (revocations.json), optional")
	at := fs.String("at", "", "verify at this time (RFC 3339) instead of now")
	fs.Usage = func() {
		fmt.Fprintln(errOut, "usage: healthcode verify <token> --keys keys.json [--revocations revocations.json] [--at 2026-12-03T12:00:00+08:00]")
	}
	var token string
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		token, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return false, err
	}
	if token == "" && fs.NArg() > 0 {
		token = fs.Arg(0)
	}
	if token == "" || *keys == "" {
		fs.Usage()
		return false, errors.New("a token and --keys are required")
	}
	ksJSON, err := readFileOrStdin(*keys)
	if err != nil {
		return false, err
	}
	var rlJSON []byte
	if *revs != "" {
		if rlJSON, err = readFileOrStdin(*revs); err != nil {
			return false, err
		}
	}
	now := time.Now()
	if *at != "" {
		if now, err = time.Parse(time.RFC3339, *at); err != nil {
			return false, fmt.Errorf("--at: want an RFC 3339 time such as 2026-12-03T12:00:00+08:00, got %q", *at)
		}
	} else {
		dir := env("HEALTHCODE_DATA_DIR", ".data")
		offset, ok, err := readDevClock(dir)
		if err != nil {
			return false, err
		}
		if ok && offset != 0 {
			now = now.Add(offset)
			fmt.Fprintf(errOut, "按开发时钟核验（%s）：%s\n", filepath.Join(dir, devClockFile),
				now.In(healthcode.CST).Format("2006-01-02 15:04:05"))
		}
	}
	if ks, err := credential.ParseKeySet(ksJSON); err == nil && !ks.Fresh(now, credential.MaxKeySetAge) {
		fmt.Fprintln(errOut, "警告：密钥集已超过 7 天未更新，请联网刷新 keys.json")
	}
	c, err := credential.VerifyOffline(token, ksJSON, rlJSON, now)
	if err != nil {
		if ve := credential.AsVerifyError(err); ve != nil {
			fmt.Fprintf(out, "无效：%s（%s）\n", ve.Message(), ve.Reason)
			return false, nil
		}
		return false, err
	}
	fmt.Fprintln(out, "有效："+credential.Describe(c))
	return true, nil
}

func readFileOrStdin(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}
