package edge_test

import (
	"context"
	"testing"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/edge"
)

// BenchmarkResolverHit measures the cached path a priced request takes once its visitor was
// looked up; the goal is under 2 µs.
func BenchmarkResolverHit(b *testing.B) {
	_, srv := newFake(b)
	r, err := edge.NewResolver(newClient(b, srv, nil), edge.ResolverOptions{OnLookup: func(string, time.Duration) {}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	id := identity(sampleECID)
	if _, err := r.Segments(ctx, id); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Segments(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeECID measures reading the ECID from the identity cookie, done on every
// priced request before the cache is consulted.
func BenchmarkDecodeECID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := edge.DecodeECID(sampleCookie); err != nil {
			b.Fatal(err)
		}
	}
}
