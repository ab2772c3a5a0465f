package edge_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/edge"
	"github.com/caddy-audiences/caddy-audiences/internal/edge/edgetest"
)

// outcomes counts the outcomes a Resolver reports.
type outcomes struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *outcomes) record(outcome string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[string]int{}
	}
	o.n[outcome]++
}

func (o *outcomes) get(outcome string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[outcome]
}

func newResolver(t testing.TB, c *edge.Client, opts edge.ResolverOptions) (*edge.Resolver, *outcomes) {
	t.Helper()
	var o outcomes
	opts.OnLookup = o.record
	r, err := edge.NewResolver(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r, &o
}

var sampleSegments = []string{"seg-app", "seg-bags", "seg-vip"}

func TestResolverCoalescesConcurrentLookups(t *testing.T) {
	fake, srv := newFake(t)
	fake.SetBehavior(sampleECID, edgetest.Behavior{Delay: 100 * time.Millisecond}) // keep the call open while the others arrive
	r, o := newResolver(t, newClient(t, srv, nil), edge.ResolverOptions{Timeout: 2 * time.Second})

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			segs, err := r.Segments(context.Background(), identity(sampleECID))
			if err == nil && !slices.Equal(segs, sampleSegments) {
				err = fmt.Errorf("segments %q", segs)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	noFailures(t, fake)
	if n := fake.Calls(); n != 1 {
		t.Fatalf("%d upstream calls for 100 concurrent lookups, want 1", n)
	}
	if miss, shared := o.get(edge.OutcomeMiss), o.get(edge.OutcomeCoalesced)+o.get(edge.OutcomeHit); miss != 1 || shared != 99 {
		t.Fatalf("%d misses and %d coalesced or hits, want 1 and 99 (%v)", miss, shared, o.n)
	}
}

func TestResolverCachesUntilExpiry(t *testing.T) {
	fake, srv := newFake(t)
	r, o := newResolver(t, newClient(t, srv, nil), edge.ResolverOptions{TTL: 200 * time.Millisecond})
	ctx := context.Background()
	for range 3 {
		if segs, err := r.Segments(ctx, identity(sampleECID)); err != nil || !slices.Equal(segs, sampleSegments) {
			t.Fatalf("Segments = %q, %v", segs, err)
		}
	}
	if fake.Calls() != 1 || o.get(edge.OutcomeMiss) != 1 || o.get(edge.OutcomeHit) != 2 {
		t.Fatalf("%d calls, outcomes %v; want 1 call, 1 miss, 2 hits", fake.Calls(), o.n)
	}
	// A different ECID is a different key.
	if segs, _ := r.Segments(ctx, identity(otherECID)); !slices.Equal(segs, []string{"seg-new"}) || fake.Calls() != 2 {
		t.Fatalf("other ECID: %q after %d calls", segs, fake.Calls())
	}
	time.Sleep(250 * time.Millisecond)
	if _, err := r.Segments(ctx, identity(sampleECID)); err != nil || fake.Calls() != 3 {
		t.Fatalf("after the TTL: %v, %d calls; want a new call", err, fake.Calls())
	}
}

func TestResolverCacheStaysBounded(t *testing.T) {
	// The bound is the LRU's size whatever the number of visitors; 5,000 ECIDs through a
	// 1,000-entry cache show it as well as 100,000 through the default 100,000 would, faster.
	fake := &edgetest.Fake{DatastreamID: datastream}
	c, err := edge.NewClient(edge.Options{BaseURL: "http://edge.test", DatastreamID: datastream, HTTPClient: inProcess(fake)})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := newResolver(t, c, edge.ResolverOptions{CacheSize: 1000})
	ctx := context.Background()
	for i := range 5000 {
		ecid := fmt.Sprintf("%038d", i)
		if _, err := r.Segments(ctx, edge.Identity{ECID: ecid}); err != nil {
			t.Fatal(err)
		}
		if n := r.Len(); n > 1000 {
			t.Fatalf("after %d ECIDs the cache holds %d entries, bound 1000", i+1, n)
		}
	}
	noFailures(t, fake)
	if n := r.Len(); n != 1000 {
		t.Fatalf("cache holds %d entries, want 1000", n)
	}
	// The most recent ECID is cached, the first was evicted.
	before := fake.Calls()
	r.Segments(ctx, edge.Identity{ECID: fmt.Sprintf("%038d", 4999)})
	r.Segments(ctx, edge.Identity{ECID: fmt.Sprintf("%038d", 0)})
	if n := fake.Calls() - before; n != 1 {
		t.Fatalf("%d calls for one recent and one evicted ECID, want 1", n)
	}
}

func TestResolverErrorsAreNotCached(t *testing.T) {
	fake, srv := newFake(t)
	fake.SetBehavior(sampleECID, edgetest.Behavior{Status: 500, Times: 1})
	r, o := newResolver(t, newClient(t, srv, nil), edge.ResolverOptions{})
	ctx := context.Background()
	if _, err := r.Segments(ctx, identity(sampleECID)); err == nil {
		t.Fatal("no error for a 500")
	}
	if segs, err := r.Segments(ctx, identity(sampleECID)); err != nil || !slices.Equal(segs, sampleSegments) {
		t.Fatalf("after the error: %q, %v", segs, err)
	}
	if fake.Calls() != 2 || o.get(edge.OutcomeErrorHTTP) != 1 || o.get(edge.OutcomeMiss) != 1 {
		t.Fatalf("%d calls, outcomes %v", fake.Calls(), o.n)
	}
}

func TestResolverOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		behavior *edgetest.Behavior
		ecid     string
		closed   bool // the server is down
		outcome  string
	}{
		{name: "timeout", behavior: &edgetest.Behavior{Delay: 2 * time.Second}, outcome: edge.OutcomeErrorTimeout},
		{name: "problem", behavior: &edgetest.Behavior{Status: 400}, outcome: edge.OutcomeErrorHTTP},
		{name: "invalid JSON", behavior: &edgetest.Behavior{InvalidJSON: true}, outcome: edge.OutcomeErrorDecode},
		{name: "oversized", behavior: &edgetest.Behavior{BodySize: 10 << 20}, outcome: edge.OutcomeErrorDecode},
		{name: "invalid ECID", ecid: "42", outcome: edge.OutcomeErrorOther},
		{name: "connection refused", closed: true, outcome: edge.OutcomeErrorOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, srv := newFake(t)
			if tt.behavior != nil {
				fake.SetBehavior(sampleECID, *tt.behavior)
			}
			c := newClient(t, srv, nil)
			if tt.closed {
				srv.Close()
			}
			r, o := newResolver(t, c, edge.ResolverOptions{Timeout: 100 * time.Millisecond})
			id := identity(sampleECID)
			if tt.ecid != "" {
				id.ECID = tt.ecid
			}
			start := time.Now()
			segs, err := r.Segments(context.Background(), id)
			if err == nil || segs != nil {
				t.Fatalf("Segments = %q, %v; want an error", segs, err)
			}
			if o.get(tt.outcome) != 1 {
				t.Fatalf("outcomes %v, want one %s (err %v)", o.n, tt.outcome, err)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("took %v despite the 100 ms timeout", d)
			}
		})
	}
}

func TestResolverCallerGivingUpDoesNotFailOthers(t *testing.T) {
	fake, srv := newFake(t)
	fake.SetBehavior(sampleECID, edgetest.Behavior{Delay: 150 * time.Millisecond})
	r, o := newResolver(t, newClient(t, srv, nil), edge.ResolverOptions{Timeout: 2 * time.Second})

	impatient, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	first := make(chan error, 1)
	go func() {
		_, err := r.Segments(impatient, identity(sampleECID))
		first <- err
	}()
	time.Sleep(5 * time.Millisecond) // let the impatient caller start the upstream call
	segs, err := r.Segments(context.Background(), identity(sampleECID))
	if err != nil || !slices.Equal(segs, sampleSegments) {
		t.Fatalf("patient caller: %q, %v", segs, err)
	}
	if err := <-first; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("impatient caller: %v, want its deadline", err)
	}
	if _, err := r.Segments(context.Background(), identity(sampleECID)); err != nil {
		t.Fatal(err)
	}
	if fake.Calls() != 1 || o.get(edge.OutcomeErrorTimeout) != 1 || o.get(edge.OutcomeHit) != 1 ||
		o.get(edge.OutcomeCoalesced)+o.get(edge.OutcomeMiss) != 1 {
		t.Fatalf("%d calls, outcomes %v; want 1 call, 1 timeout, 1 shared, 1 hit", fake.Calls(), o.n)
	}
}

func TestResolverReturnsACopy(t *testing.T) {
	_, srv := newFake(t)
	r, _ := newResolver(t, newClient(t, srv, nil), edge.ResolverOptions{})
	segs, _ := r.Segments(context.Background(), identity(sampleECID))
	segs[0] = "tampered"
	again, _ := r.Segments(context.Background(), identity(sampleECID))
	if !slices.Equal(again, sampleSegments) {
		t.Fatalf("cached answer changed to %q", again)
	}
}

func TestNewResolver(t *testing.T) {
	if _, err := edge.NewResolver(nil, edge.ResolverOptions{}); err == nil {
		t.Error("nil client accepted")
	}
	c, err := edge.NewClient(edge.Options{DatastreamID: "d"})
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []edge.ResolverOptions{{TTL: -1}, {CacheSize: -1}, {Timeout: -1}} {
		if _, err := edge.NewResolver(c, opts); err == nil {
			t.Errorf("%+v accepted", opts)
		}
	}
}
