package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"healthcode/credential"
)

// runKeys manages the signing keys: `healthcode keys rotate` creates a new
// active key (the first one when there is none), keeps the previous keys
// published until every token they signed has expired, and prunes keys past
// that point. Run it from one process only (e.g. a monthly cron job).
func runKeys(cfg Config, args []string) error {
	if len(args) != 1 || args[0] != "rotate" {
		return errors.New("usage: healthcode keys rotate")
	}
	ring, err := credential.LoadKeyRing(cfg.KeyDir, credential.IssuerProvince, true)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	now := time.Now()
	kid, err := ring.Rotate(now, credential.PaperTokenLifetime+credential.DefaultSkew)
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

// runVerify verifies a token offline: `healthcode verify <token> --keys
// keys.json [--revocations revocations.json]` (docs/scanning.md). It exits 1
// with the reason when the token does not verify.
func runVerify(args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	keys := fs.String("keys", "", "key set file (keys.json); - for standard input")
	revs := fs.String("revocations", "", "revocation list file (revocations.json), optional")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: healthcode verify <token> --keys keys.json [--revocations revocations.json]")
	}
	var token string
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		token, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if token == "" && fs.NArg() > 0 {
		token = fs.Arg(0)
	}
	if token == "" || *keys == "" {
		fs.Usage()
		return errors.New("a token and --keys are required")
	}
	ksJSON, err := readFileOrStdin(*keys)
	if err != nil {
		return err
	}
	var rlJSON []byte
	if *revs != "" {
		if rlJSON, err = readFileOrStdin(*revs); err != nil {
			return err
		}
	}
	now := time.Now()
	if ks, err := credential.ParseKeySet(ksJSON); err == nil && !ks.Fresh(now, credential.MaxKeySetAge) {
		fmt.Fprintln(os.Stderr, "警告：密钥集已超过 7 天未更新，请联网刷新 keys.json")
	}
	c, err := credential.VerifyOffline(token, ksJSON, rlJSON, now)
	if err != nil {
		if ve := credential.AsVerifyError(err); ve != nil {
			fmt.Printf("无效：%s（%s）\n", ve.Message(), ve.Reason)
			os.Exit(1)
		}
		return err
	}
	fmt.Println("有效：" + credential.Describe(c))
	return nil
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
