package rules

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

// TestMerchandisingConcurrent evaluates one set from many goroutines with a small candidate
// cache, so candidate lists are computed, evicted and shared concurrently (run with -race).
func TestMerchandisingConcurrent(t *testing.T) {
	rs := mustDecode(t, string(benchMerch(200)), WithCacheSize(4))
	items := benchList(10)
	want := map[string][]string{}
	for g := range 8 {
		segs := []string{fmt.Sprintf("seg-%05d", g%5)}
		want[segs[0]] = rs.ProductList(benchProduct, ListRelated, items, segs, benchAt, Scope{}, EvalOptions{}).Items
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				segs := []string{fmt.Sprintf("seg-%05d", (g+i)%5)}
				res := rs.ProductList(benchProduct, ListRelated, items, segs, benchAt, Scope{}, EvalOptions{Trace: TraceOff})
				if !slices.Equal(res.Items, want[segs[0]]) {
					t.Errorf("%v: %v, want %v", segs, res.Items, want[segs[0]])
					return
				}
				rs.Blocks([]string{"hero-3", "only-7", "x"}, segs, benchAt, Scope{}, EvalOptions{})
			}
		}()
	}
	wg.Wait()
}
