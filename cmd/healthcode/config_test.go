package main

import (
	"strings"
	"testing"
	"time"

	"healthcode/postgres"
)

// CODE_CACHE sizes the resident code cache or turns it off; CODE_CACHE_TTL
// bounds an entry's use; a bad value stops the start.
func TestCodeCacheConfig(t *testing.T) {
	for _, tc := range []struct {
		cache, ttl string
		want       int
		wantTTL    time.Duration
		err        string
	}{
		{want: postgres.DefaultResidentCacheEntries},
		{cache: "off", want: 0},
		{cache: "0", want: 0},
		{cache: " 5000 ", ttl: "30s", want: 5000, wantTTL: 30 * time.Second},
		{cache: "many", err: "CODE_CACHE"},
		{cache: "-1", err: "CODE_CACHE"},
		{ttl: "0s", err: "CODE_CACHE_TTL"},
	} {
		t.Setenv("CODE_CACHE", tc.cache)
		t.Setenv("CODE_CACHE_TTL", tc.ttl)
		c, err := loadConfig()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("CODE_CACHE=%q CODE_CACHE_TTL=%q: error %v, want one naming %s", tc.cache, tc.ttl, err, tc.err)
			}
			continue
		}
		if err != nil || c.CodeCache != tc.want || c.CodeCacheTTL != tc.wantTTL {
			t.Errorf("CODE_CACHE=%q CODE_CACHE_TTL=%q: %d, %s, %v; want %d, %s", tc.cache, tc.ttl, c.CodeCache, c.CodeCacheTTL, err,
				tc.want, tc.wantTTL)
		}
	}
}
