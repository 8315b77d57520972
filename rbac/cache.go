package rbac

import (
	"sync"

	"github.com/casbin/casbin/v2/persist/cache"
)

// defaultCacheEntries bounds the decision cache: about 100 bytes per entry,
// so some 25 MB at most.
const defaultCacheEntries = 1 << 18

// boundedCache is casbin's decision cache with a size bound: when it is full
// it starts over empty. Decisions never expire otherwise; every reload of the
// grants clears it. It is safe for concurrent use.
type boundedCache struct {
	mu  sync.RWMutex
	max int
	m   map[string]bool
}

var _ cache.Cache = (*boundedCache)(nil)

func newBoundedCache(max int) *boundedCache {
	return &boundedCache{max: max, m: make(map[string]bool)}
}

func (c *boundedCache) Set(key string, value bool, _ ...interface{}) error {
	c.mu.Lock()
	if len(c.m) >= c.max {
		c.m = make(map[string]bool)
	}
	c.m[key] = value
	c.mu.Unlock()
	return nil
}

func (c *boundedCache) Get(key string) (bool, error) {
	c.mu.RLock()
	v, ok := c.m[key]
	c.mu.RUnlock()
	if !ok {
		return false, cache.ErrNoSuchKey
	}
	return v, nil
}

func (c *boundedCache) Delete(key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok {
		return cache.ErrNoSuchKey
	}
	delete(c.m, key)
	return nil
}

func (c *boundedCache) Clear() error {
	c.mu.Lock()
	c.m = make(map[string]bool)
	c.mu.Unlock()
	return nil
}
