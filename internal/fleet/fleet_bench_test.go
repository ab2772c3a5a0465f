package fleet

import (
	"fmt"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"

	"github.com/caddy-audiences/caddy-audiences/internal/gate"
)

// BenchmarkStore measures each shared-state operation on file_system storage in a temporary
// directory: the reads a cart first seen by an instance costs (a pin, a claim of the code the
// cart holds, its assignment), and the writes a new cart costs (a pin, a claim) and a sync
// (the cart's lock).
func BenchmarkStore(b *testing.B) {
	s := New(&certmagic.FileStorage{Path: b.TempDir()}, "shop", time.Minute, nil)
	l := s.Ledger("pool-gate")
	if ok, err := l.Claim("AUDPOOL-HELD", "cart-held"); !ok || err != nil {
		b.Fatal(ok, err)
	}
	if _, err := s.PinFirst("cart-held", "ecid"); err != nil {
		b.Fatal(err)
	}
	locker := s.Locker(gate.NewLocks())
	seq := 0 // never reset: every iteration of every run writes keys of its own
	for _, bc := range []struct {
		name string
		op   func(i int) error
	}{
		{"pin-read", func(int) error { _, err := s.PinFirst("cart-held", "ecid"); return err }},
		{"claim-held-code", func(int) error { _, err := l.Claim("AUDPOOL-HELD", "cart-held"); return err }},
		{"assigned", func(int) error { _, err := l.Assigned("cart-held"); return err }},
		{"pin-new-cart", func(i int) error { _, err := s.PinFirst(fmt.Sprint("new-", i), "ecid"); return err }},
		{"claim-new-code", func(i int) error {
			_, err := l.Claim(fmt.Sprintf("AUDPOOL-N%d", i), fmt.Sprint("new-", i))
			return err
		}},
		{"cart-lock-unlock", func(i int) error {
			unlock, err := locker.Lock(fmt.Sprint("cart-", i%64))
			if err == nil {
				unlock()
			}
			return err
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.op(seq); err != nil {
					b.Fatal(err)
				}
				seq++
			}
		})
	}
}
