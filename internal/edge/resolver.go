package edge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/sync/singleflight"
)

// Resolver defaults.
const (
	DefaultTTL       = 60 * time.Second
	DefaultCacheSize = 100_000
	DefaultTimeout   = 300 * time.Millisecond
)

// ResolverOptions configure a Resolver.
type ResolverOptions struct {
	// TTL is how long an answer is reused; default DefaultTTL. Errors are never cached.
	TTL time.Duration
	// CacheSize bounds the cached answers; default DefaultCacheSize. The least recently used
	// answer is dropped first.
	CacheSize int
	// Timeout bounds one upstream lookup, retries included; default DefaultTimeout.
	Timeout time.Duration
	// OnLookup, when set, is called once per Segments call with its outcome (one of Outcomes)
	// and duration. It runs on the caller's goroutine and must be fast.
	OnLookup func(outcome string, d time.Duration)
}

// cacheKey identifies one answer: the same ECID may belong to different audiences in
// different datastreams.
type cacheKey struct {
	datastream string
	ecid       string
}

// Resolver answers "which segments is this ECID in" from a cache, asking the Edge Network on
// a miss. Concurrent misses for one key share a single upstream call. It is safe for
// concurrent use.
type Resolver struct {
	client   *Client
	cache    *expirable.LRU[cacheKey, []string]
	group    singleflight.Group
	timeout  time.Duration
	onLookup func(string, time.Duration)
}

// NewResolver returns a Resolver over client. The cache starts a cleanup goroutine that lives
// as long as the process (golang-lru v2 offers no way to stop it), so build one Resolver per
// configuration and share it, not one per request.
func NewResolver(client *Client, opts ResolverOptions) (*Resolver, error) {
	if client == nil {
		return nil, errors.New("edge: resolver needs a client")
	}
	if opts.TTL < 0 || opts.CacheSize < 0 || opts.Timeout < 0 {
		return nil, errors.New("edge: resolver TTL, cache size and timeout must not be negative")
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultTTL
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Resolver{
		client:   client,
		cache:    expirable.NewLRU[cacheKey, []string](opts.CacheSize, nil, opts.TTL),
		timeout:  opts.Timeout,
		onLookup: opts.OnLookup,
	}, nil
}

// Len returns the number of cached answers, expired ones not yet swept included.
func (r *Resolver) Len() int { return r.cache.Len() }

// Purge drops every cached answer.
func (r *Resolver) Purge() { r.cache.Purge() }

// How a singleflight call ended for the caller that ran it.
const (
	ranNothing int32 = iota // this caller shared another's call
	ranCached               // the answer was cached meanwhile: no upstream call
	ranLookup               // this caller asked the Edge Network
)

// Segments returns the sorted segment IDs of id.ECID, from the cache or the Edge Network. The
// upstream call runs with its own Timeout, detached from ctx, so a caller that gives up early
// does not fail the callers sharing the call; the answer is cached for them and later ones.
// The returned slice belongs to the caller.
func (r *Resolver) Segments(ctx context.Context, id Identity) ([]string, error) {
	start := time.Now()
	if !ValidECID(id.ECID) {
		err := fmt.Errorf("%w: ECID must be 38 digits", ErrInvalidIdentity)
		r.report(OutcomeErrorOther, start)
		return nil, err
	}
	key := cacheKey{datastream: r.client.datastream, ecid: id.ECID}
	if segs, ok := r.cache.Get(key); ok {
		r.report(OutcomeHit, start)
		return slices.Clone(segs), nil
	}

	var ran atomic.Int32
	ch := r.group.DoChan(key.datastream+"\x00"+key.ecid, func() (any, error) {
		if segs, ok := r.cache.Get(key); ok {
			ran.Store(ranCached)
			return segs, nil
		}
		ran.Store(ranLookup)
		lookupCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
		defer cancel()
		res, err := r.client.Lookup(lookupCtx, id)
		if err != nil {
			return nil, err
		}
		r.cache.Add(key, res.Segments)
		return res.Segments, nil
	})

	waitCtx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	select {
	case res := <-ch:
		if res.Err != nil {
			r.report(Outcome(res.Err), start)
			return nil, res.Err
		}
		outcome := OutcomeCoalesced
		switch ran.Load() {
		case ranLookup:
			outcome = OutcomeMiss
		case ranCached:
			outcome = OutcomeHit
		}
		r.report(outcome, start)
		return slices.Clone(res.Val.([]string)), nil
	case <-waitCtx.Done():
		err := fmt.Errorf("edge: lookup: %w", waitCtx.Err())
		r.report(Outcome(err), start)
		return nil, err
	}
}

func (r *Resolver) report(outcome string, start time.Time) {
	if r.onLookup != nil {
		r.onLookup(outcome, time.Since(start))
	}
}

// Resolvers keeps one Resolver per configuration, so a configuration loaded again (a Caddy
// config reload) keeps its cache. The zero value is ready to use.
type Resolvers struct {
	mu   sync.Mutex
	byID map[string]*Resolver
}

// Get returns the resolver of a configuration, creating it the first time.
func (rs *Resolvers) Get(opts Options, ropts ResolverOptions) (*Resolver, error) {
	key := fmt.Sprintf("%+v|%+v|%v|%v", opts, opts.Auth, ropts.TTL, ropts.Timeout)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if r, ok := rs.byID[key]; ok {
		return r, nil
	}
	client, err := NewClient(opts)
	if err != nil {
		return nil, err
	}
	r, err := NewResolver(client, ropts)
	if err != nil {
		return nil, err
	}
	if rs.byID == nil {
		rs.byID = map[string]*Resolver{}
	}
	rs.byID[key] = r
	return r, nil
}
