package fleet

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"

	"github.com/caddy-audiences/caddy-audiences/internal/gate"
	"github.com/caddy-audiences/caddy-audiences/internal/trust"
)

// Interface guards: the fleet's types are what the gate and trust ask for.
var (
	_ gate.Locker       = (*Locker)(nil)
	_ gate.Ledger       = (*Ledger)(nil)
	_ trust.PinStore    = (*Store)(nil)
	_ certmagic.Storage = (*failingStorage)(nil)
)

// twoInstances returns two stores on one directory, as two processes would have.
func twoInstances(t testing.TB, timeout time.Duration) (*Store, *Store, string) {
	t.Helper()
	dir := t.TempDir()
	return New(&certmagic.FileStorage{Path: dir}, "shop", timeout, nil),
		New(&certmagic.FileStorage{Path: dir}, "shop", timeout, nil), dir
}

// TestClaimsOnePerCode: carts on two instances, many goroutines each, walk one list of codes
// claiming until they win: every code is won by one cart, and each cart's assignment is the
// code it won, on both instances and after a restart.
func TestClaimsOnePerCode(t *testing.T) {
	a, b, dir := twoInstances(t, 30*time.Second)
	const carts, codes = 24, 30
	won := make([]string, carts)
	var wg sync.WaitGroup
	for i := range carts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			l := s.Ledger("pool-rule")
			cart := fmt.Sprintf("cart-%02d", i)
			for c := range codes {
				code := fmt.Sprintf("AUDPOOL-%04d", c)
				ok, err := l.Claim(code, cart)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					won[i] = code
					return
				}
			}
		}()
	}
	wg.Wait()
	owners := map[string]int{}
	for i, code := range won {
		if code == "" {
			t.Fatalf("cart %d won no code of %d", i, codes)
		}
		if j, dup := owners[code]; dup {
			t.Fatalf("carts %d and %d both won %s", j, i, code)
		}
		owners[code] = i
	}
	restarted := New(&certmagic.FileStorage{Path: dir}, "shop", time.Second, nil)
	for i, code := range won {
		cart := fmt.Sprintf("cart-%02d", i)
		for _, s := range []*Store{a, b, restarted} {
			if got, err := s.Ledger("pool-rule").Assigned(cart); err != nil || got != code {
				t.Fatalf("%s: assigned %q (%v), won %q", cart, got, err, code)
			}
		}
		// Claiming its own code again wins; another cart never does, even after a restart.
		if ok, err := restarted.Ledger("pool-rule").Claim(strings.ToLower(code), cart); !ok || err != nil {
			t.Fatalf("%s re-claiming its code: %v %v", cart, ok, err)
		}
		if ok, err := restarted.Ledger("other-rule").Claim(code, "cart-new"); ok || err != nil {
			t.Fatalf("%s was claimed again: %v %v", code, ok, err)
		}
	}
	if got, err := a.Ledger("pool-rule").Assigned("cart-unknown"); got != "" || err != nil {
		t.Fatalf("an unknown cart: %q %v", got, err)
	}
}

// TestPinFirstWins: identities racing for one cart through two instances: one owns it and
// every answer says so.
func TestPinFirstWins(t *testing.T) {
	a, b, _ := twoInstances(t, 30*time.Second)
	const racers = 12
	owners := make([]string, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			owner, err := s.PinFirst("cart-1", fmt.Sprintf("ecid-%d", i))
			if err != nil {
				t.Error(err)
			}
			owners[i] = owner
		}()
	}
	wg.Wait()
	winners := 0
	for i, owner := range owners {
		if owner == fmt.Sprintf("ecid-%d", i) {
			winners++
		}
	}
	if winners != 1 {
		t.Fatalf("%d identities own one cart: %q", winners, owners)
	}
	for i := range racers {
		owner, _ := b.PinFirst("cart-1", fmt.Sprintf("ecid-%d", i))
		if (owner == fmt.Sprintf("ecid-%d", i)) != (owners[i] == fmt.Sprintf("ecid-%d", i)) {
			t.Fatalf("ecid-%d: the pin changed", i)
		}
	}
}

// TestDeadEmptyLockFile: a holder killed between creating a file storage lock file and
// writing it leaves the file empty. Once it has been empty for 2 s the lock is had again (a
// valid lock file would go stale only after 10 s); an empty file younger than that still
// holds the lock, as a holder may be about to write it.
func TestDeadEmptyLockFile(t *testing.T) {
	a, _, dir := twoInstances(t, 500*time.Millisecond)
	name := a.lockName("cart", hashID("cart-1")+".0")
	path := filepath.Join(dir, "locks", certmagic.StorageKeys.Safe(name)+".lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Locker(gate.NewLocks()).Lock("cart-1"); err == nil {
		t.Fatal("a fresh empty lock file was taken for a dead holder's")
	}
	old := time.Now().Add(-3 * time.Second)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	unlock, err := a.Locker(gate.NewLocks()).Lock("cart-1")
	if err != nil {
		t.Fatalf("an empty lock file 3 s old still holds the lock: %v", err)
	}
	unlock()
}

// TestCartLockAcrossInstances: a cart locked on one instance is not had on the other within
// the timeout, with an error that says so; once unlocked it is.
func TestCartLockAcrossInstances(t *testing.T) {
	a, b, _ := twoInstances(t, 300*time.Millisecond)
	la, lb := a.Locker(gate.NewLocks()), b.Locker(gate.NewLocks())
	unlock, err := la.Lock("cart-1")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = lb.Lock("cart-1")
	if err == nil || !strings.Contains(err.Error(), "cart lock not obtained within 300ms") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a held cart lock: %v", err)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond || waited > 5*time.Second {
		t.Fatalf("waited %s for a 300ms timeout", waited)
	}
	other, err := lb.Lock("cart-2")
	if err != nil {
		t.Fatalf("another cart: %v", err)
	}
	other()
	unlock()
	again, err := lb.Lock("cart-1")
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	again()
	// The local lock is released when the storage's cannot be had.
	locks := gate.NewLocks()
	held, _ := la.Lock("cart-3")
	if _, err := b.Locker(locks).Lock("cart-3"); err == nil {
		t.Fatal("cart-3 is held elsewhere")
	}
	held()
	done := make(chan struct{})
	go func() {
		u, _ := locks.Lock("cart-3")
		u()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the local lock was kept after the shared one failed")
	}
}

// TestKeysAreSafe: any cart id, handler name or code lands in a file under the handler's
// prefix, and neither cart ids nor ECIDs are stored in the clear.
func TestKeysAreSafe(t *testing.T) {
	dir := t.TempDir()
	s := New(&certmagic.FileStorage{Path: dir}, "../../etc", time.Second, nil)
	cart := "../../../escape/\x00cart?"
	if ok, err := s.Ledger("rule/../x").Claim("AUDPOOL-0001", cart); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, err := s.PinFirst(cart, "47147901523633284012774707065712279255"); err != nil {
		t.Fatal(err)
	}
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files = append(files, rel)
		raw, _ := os.ReadFile(path)
		if strings.Contains(string(raw), "escape") || strings.Contains(string(raw), "4714790152363328") {
			t.Errorf("%s holds an id in the clear: %q", rel, raw)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.HasPrefix(f, filepath.Join("audiences", segment("../../etc"))+string(filepath.Separator)) {
			t.Errorf("a key outside the handler's prefix: %s", f)
		}
	}
	if len(files) != 3 { // claim, assignment, pin
		t.Fatalf("files %q", files)
	}
}

// failingStorage is a FileStorage whose reads fail.
type failingStorage struct{ certmagic.FileStorage }

func (failingStorage) Load(context.Context, string) ([]byte, error) {
	return nil, errors.New("connection refused")
}

func TestStorageErrorsReachTheCaller(t *testing.T) {
	s := New(&failingStorage{certmagic.FileStorage{Path: t.TempDir()}}, "shop", time.Second, nil)
	if ok, err := s.Ledger("r").Claim("AUDPOOL-0001", "cart"); ok || err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if _, err := s.Ledger("r").Assigned("cart"); err == nil {
		t.Fatal("assigned: no error")
	}
	if owner, err := s.PinFirst("cart", "ecid"); err == nil || owner != "" {
		t.Fatalf("pin: %q %v", owner, err)
	}
}

// TestCartLockNamesNotReused: each time a cart's lock is released its next lock has a new
// name, so a file storage keep-fresh goroutine of the releasing process never adopts the
// next holder's lock; a lock its holder left behind (dead: not kept fresh) is broken once
// stale.
func TestCartLockNamesNotReused(t *testing.T) {
	a, b, dir := twoInstances(t, 2*time.Second)
	locks := filepath.Join(dir, "locks")
	held := func() []string {
		entries, _ := os.ReadDir(locks)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	seen := map[string]bool{}
	for i, s := range []*Store{a, b, a, b} {
		unlock, err := s.Locker(gate.NewLocks()).Lock("cart-1")
		if err != nil {
			t.Fatal(err)
		}
		names := held()
		if len(names) != 1 || seen[names[0]] {
			t.Fatalf("lock %d: lock files %q (seen %v)", i, names, seen)
		}
		seen[names[0]] = true
		unlock()
	}
	// A holder that died: its lock file, never kept fresh, for the current generation.
	unlock, _ := a.Locker(gate.NewLocks()).Lock("cart-2")
	name := held()[0]
	unlock()
	next := strings.Replace(name, ".0.lock", ".1.lock", 1)
	old := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	writeFileT(t, filepath.Join(locks, next), `{"created":"`+old+`","updated":"`+old+`"}`)
	start := time.Now()
	again, err := b.Locker(gate.NewLocks()).Lock("cart-2")
	if err != nil || time.Since(start) > time.Second {
		t.Fatalf("a dead holder's stale lock was not broken: %v after %s", err, time.Since(start))
	}
	again()
}

func writeFileT(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestClaimLockFollowsTheKey: a code's claim key and claim lock fold case alike, so two
// spellings of one code share the lock as they share the key, whatever the storage does with
// lock names.
func TestClaimLockFollowsTheKey(t *testing.T) {
	s := New(&certmagic.FileStorage{Path: t.TempDir()}, "shop", time.Second, nil)
	for _, pair := range [][2]string{{"audpool-0001", "AUDPOOL-0001"}, {"Vip-Ä", "VIP-Ä"}} {
		if s.claimKey(pair[0]) != s.claimKey(pair[1]) || claimID(pair[0]) != claimID(pair[1]) {
			t.Errorf("%q and %q: keys %q %q, lock ids %q %q", pair[0], pair[1], s.claimKey(pair[0]), s.claimKey(pair[1]), claimID(pair[0]), claimID(pair[1]))
		}
	}
}
