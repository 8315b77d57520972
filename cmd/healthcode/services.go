package main

import (
	"context"
	"io"

	"healthcode/devenv"
)

func startServices(ctx context.Context, dir string, pgPort, redisPort int, throwaway bool, log io.Writer) (*devenv.Env, error) {
	return devenv.Start(ctx, devenv.Options{
		Dir: dir, PostgresPort: pgPort, RedisPort: redisPort, Throwaway: throwaway, Log: log,
	})
}
