package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"healthcode/demo"
)

// syntheticSeed is the seed of `healthcode seed --synthetic N`: the same
// command gives the same population (ID numbers already stored are drawn
// again, so running it twice adds a second population).
const syntheticSeed = 2020

// runSeedSynthetic creates n synthetic persons with their facts and codes
// (demo.SeedSynthetic) and prints how many and how fast. It is dev mode
// only, like the demo accounts: synthetic persons must never mix with real
// residents.
func runSeedSynthetic(ctx context.Context, cfg Config, n int) error {
	if !cfg.Dev {
		return errors.New("seed: synthetic persons exist only in dev mode (set HEALTHCODE_DEV=true)")
	}
	if n <= 0 {
		return fmt.Errorf("seed: --synthetic wants a positive number of persons, got %d", n)
	}
	log := cfg.logger()
	p, err := openPlatform(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer p.close()
	start := time.Now()
	created, err := demo.SeedSynthetic(ctx, p.db, n, syntheticSeed)
	elapsed := time.Since(start)
	if created > 0 {
		fmt.Printf("%d synthetic persons created in %s (%.0f persons/s)\n", created, elapsed.Round(time.Millisecond),
			float64(created)/elapsed.Seconds())
	}
	if err != nil {
		return fmt.Errorf("seed synthetic persons: %w", err)
	}
	return nil
}
