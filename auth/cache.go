package auth

import (
	"sync"
	"time"
)

// DefaultCacheSize is how many verified tokens a [Verifier] remembers.
const DefaultCacheSize = 10000

// tokenCache remembers verified principals by a SHA-256 of the token, so a
// connector's repeated calls with one token pay for one RSA verification.
// An entry is good until the token expires or the key set changes,
// whichever comes first. The size is bounded: two generations of at most
// max/2 entries each; when the young one fills, the old one is dropped
// whole and entries still in use are promoted on their next hit.
type tokenCache struct {
	mu       sync.Mutex
	half     int
	cur, old map[[32]byte]cacheEntry
}

type cacheEntry struct {
	p   *Principal
	gen uint64
}

func newTokenCache(size int) *tokenCache {
	half := max(size/2, 1)
	return &tokenCache{half: half, cur: make(map[[32]byte]cacheEntry, half)}
}

func (c *tokenCache) get(key [32]byte, gen uint64, now time.Time) (*Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cur[key]
	if !ok {
		if e, ok = c.old[key]; !ok {
			return nil, false
		}
		delete(c.old, key)
		c.putLocked(key, e)
	}
	if e.gen != gen || !now.Before(e.p.ExpiresAt) {
		delete(c.cur, key)
		return nil, false
	}
	return e.p, true
}

func (c *tokenCache) put(key [32]byte, p *Principal, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(key, cacheEntry{p: p, gen: gen})
}

func (c *tokenCache) putLocked(key [32]byte, e cacheEntry) {
	if _, ok := c.cur[key]; !ok && len(c.cur) >= c.half {
		c.old, c.cur = c.cur, make(map[[32]byte]cacheEntry, c.half)
	}
	c.cur[key] = e
}

// len returns how many entries the cache holds.
func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
