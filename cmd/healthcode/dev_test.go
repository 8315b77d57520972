package main

import (
	"path/filepath"
	"strings"
	"testing"

	"healthcode/devenv"
)

// The banner names the directory that really keeps the data: the one of
// HEALTHCODE_DATA_DIR, as an absolute path, or the default .data.
func TestBannerNamesDataDir(t *testing.T) {
	env := &devenv.Env{DatabaseURL: "postgres://postgres@127.0.0.1:5432/healthcode", RedisURL: "redis://127.0.0.1:6379/0"}
	dir := filepath.Join(t.TempDir(), "hc-data")
	b := banner("127.0.0.1:18081", nil, env, dir)
	if !strings.Contains(b, "Data is kept under "+dir+" for the next start") || strings.Contains(b, ".data/") {
		t.Errorf("banner with HEALTHCODE_DATA_DIR=%s:\n%s", dir, b)
	}
	if !strings.Contains(b, "http://127.0.0.1:18081/graphql") {
		t.Errorf("banner does not give the GraphQL URL:\n%s", b)
	}
	def, _ := filepath.Abs(".data")
	if b := banner("[::]:8080", nil, env, ".data"); !strings.Contains(b, "Data is kept under "+def+" for the next start") {
		t.Errorf("banner with the default data directory:\n%s", b)
	}
}
