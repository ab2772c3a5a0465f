package membership

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// randomRaw is a membership list as browsers and storefronts send them, good and bad:
// valid, invalid and duplicate IDs, spaces, empty entries, escapes plain and broken.
func randomRaw(rng *rand.Rand) string {
	pool := []string{vip, bags, other, "seg-1", "Seg_2:x", "-bad", "", " ", "a b", "é", "%zz", "x.y"}
	var ids []string
	for range rng.IntN(8) {
		ids = append(ids, pool[rng.IntN(len(pool))])
	}
	raw := strings.Join(ids, ",")
	switch rng.IntN(4) {
	case 0:
		raw = url.QueryEscape(raw)
	case 1:
		raw = strings.ReplaceAll(raw, ",", "%2c")
	case 2:
		raw = strings.ReplaceAll(raw, ",", ", ")
	}
	return raw
}

func memoRequest(header, cookie string) *http.Request {
	r := &http.Request{Header: http.Header{}}
	if header != "" {
		r.Header.Set(HeaderName, header)
	}
	if cookie != "" {
		r.Header.Set("Cookie", "PHPSESSID=1; "+CookieName+"="+cookie)
	}
	return r
}

// sameMembership fails unless a and b are the same membership, header value included.
func sameMembership(t *testing.T, what string, got, want Membership) {
	t.Helper()
	if !slices.Equal(got.Segments, want.Segments) || got.Origin != want.Origin || got.Invalid != want.Invalid ||
		got.Unknown != want.Unknown || got.Truncated != want.Truncated || got.Header() != want.Header() {
		t.Fatalf("%s: memo gives %+v (header %q), Read without it %+v (header %q)", what, got, got.Header(), want, want.Header())
	}
}

// TestMemoAgreesWithRead reads thousands of random inputs, each several times and in an
// order that makes inputs share slots, through a memo and without one: same memberships.
func TestMemoAgreesWithRead(t *testing.T) {
	allow := func(id string) bool { return id != bags }
	for _, cfg := range []Config{
		{},
		{Source: SourceCookie, MaxSegments: 2},
		{Source: SourceUnion, HonorDNT: true},
		{MaxBytes: 40, Allow: allow},
	} {
		t.Run(fmt.Sprintf("%s/%d/%d/allow=%v", cfg.Source, cfg.MaxSegments, cfg.MaxBytes, cfg.Allow != nil), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			inputs := make([][2]string, 3*memoSlots)
			for i := range inputs {
				inputs[i] = [2]string{randomRaw(rng), randomRaw(rng)}
				if rng.IntN(3) == 0 {
					inputs[i][rng.IntN(2)] = ""
				}
			}
			inputs = append(inputs, [2]string{strings.Repeat(vip+",", 40), ""}) // over memoMaxRaw
			memoized := cfg
			memoized.Memo = NewMemo(nil)
			for pass := range 3 {
				for i, in := range inputs {
					r := memoRequest(in[0], in[1])
					sameMembership(t, fmt.Sprintf("pass %d, input %d %q", pass, i, in), Read(r, memoized), Read(r, cfg))
				}
				rng.Shuffle(len(inputs), func(i, j int) { inputs[i], inputs[j] = inputs[j], inputs[i] })
			}
		})
	}
}

// TestMemoGeneration: when the allow-list changes, so does its generation, and the memo
// answers by the new list.
func TestMemoGeneration(t *testing.T) {
	var mu sync.Mutex
	allowed, generation := map[string]bool{vip: true}, 1
	cfg := Config{
		Allow: func(id string) bool { mu.Lock(); defer mu.Unlock(); return allowed[id] },
		Memo:  NewMemo(func() any { mu.Lock(); defer mu.Unlock(); return generation }),
	}
	r := memoRequest(vip+"%2C"+bags, "")
	if m := Read(r, cfg); m.Header() != vip || m.Unknown != 1 {
		t.Fatalf("first read: %+v", m)
	}
	mu.Lock()
	allowed[bags], generation = true, 2
	mu.Unlock()
	want := strings.Join([]string{bags, vip}, ",")
	for range 2 {
		if m := Read(r, cfg); m.Header() != want || m.Unknown != 0 {
			t.Fatalf("after the allow-list changed: %+v, want %q", m, want)
		}
	}
}

// TestMemoKeepsNoLongInput: an input over memoMaxRaw is read every time, never kept.
func TestMemoKeepsNoLongInput(t *testing.T) {
	memo := NewMemo(nil)
	long := strings.Repeat(vip+",", memoMaxRaw/len(vip))
	if m := Read(memoRequest(long, ""), Config{Memo: memo}); m.Header() != vip {
		t.Fatalf("long input: %+v", m)
	}
	short := Read(memoRequest(vip, ""), Config{Memo: memo})
	if short.Header() != vip {
		t.Fatalf("short input: %+v", short)
	}
	if kept := memo.current.Load().table.Len(); kept != 1 {
		t.Fatalf("%d inputs kept, want 1", kept)
	}
}

// TestMemoConcurrent reads from many goroutines at once (run with -race).
func TestMemoConcurrent(t *testing.T) {
	cfg := Config{Memo: NewMemo(nil)}
	raws := []string{vip, vip + "%2C" + bags, bags + "," + other, "bad id", ""}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				raw := raws[(g+i)%len(raws)]
				r := memoRequest(raw, "")
				if got, want := Read(r, cfg), Read(r, Config{}); got.Header() != want.Header() || got.Invalid != want.Invalid {
					t.Errorf("%q: %+v, want %+v", raw, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
