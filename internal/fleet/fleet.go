// Package fleet keeps the coupon gate's state that every instance of a fleet must agree on in
// the storage Caddy is configured with — a certmagic.Storage: the file system by default, or
// whatever the `storage` global option names — so that several sidecars behind one load
// balancer act as one: per-cart locks, pool code claims and assignments, cart pins.
//
// It implements gate.Locker, gate.Ledger and trust.PinStore without importing them. Keys live
// under audiences/<handler name>/; cart ids and ECIDs are stored only as SHA-256 hex, so any
// id makes a safe key and the storage holds no identity in the clear. Values are a few dozen
// bytes. Every storage call is bounded by the store's timeout.
package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
)

// DefaultTimeout bounds a storage operation, waiting for a lock included, when none is given.
const DefaultTimeout = 5 * time.Second

// Store is one handler's view of the shared storage. It keeps no cache: the gate's pools and
// trust's pins keep theirs in front of it. It is safe for concurrent use.
type Store struct {
	storage certmagic.Storage
	keys    string // key prefix: audiences/<name>
	locks   string // lock name prefix: audiences.<name>
	timeout time.Duration
	log     *zap.Logger
}

// New returns the store of the handler called name on storage. timeout bounds every
// operation (0: DefaultTimeout); log gets the warnings (nil: none).
func New(storage certmagic.Storage, name string, timeout time.Duration, log *zap.Logger) *Store {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if log == nil {
		log = zap.NewNop()
	}
	seg := segment(name)
	return &Store{storage: storage, keys: "audiences/" + seg, locks: "audiences." + seg, timeout: timeout, log: log}
}

// Timeout is how long an operation may take, waiting for a lock included.
func (s *Store) Timeout() time.Duration { return s.timeout }

// String names the storage, for errors and logs.
func (s *Store) String() string {
	if st, ok := s.storage.(fmt.Stringer); ok {
		return st.String()
	}
	return fmt.Sprintf("%T", s.storage)
}

// hashID is how a cart id or an ECID appears in keys and values.
func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// segment makes a name safe as one key segment and one part of a lock name: kept when it is
// 1 to 64 letters, digits, "-" and "_", hashed otherwise.
func segment(name string) string {
	if name != "" && len(name) <= 64 && strings.IndexFunc(name, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
	}) < 0 {
		return name
	}
	return "h" + hashID(name)[:32]
}

// Keys and lock names. File storage folds lock names to lower case and drops "/", so lock
// names use "." between segments, which no segment holds.
func (s *Store) claimKey(code string) string { return s.keys + "/claims/" + claimID(code) }

// claimID names a pool code in claim keys and locks: codes are case-insensitive.
func claimID(code string) string { return segment(strings.ToUpper(code)) }
func (s *Store) assignKey(ruleID, cartID string) string {
	return s.keys + "/pools/" + segment(ruleID) + "/" + hashID(cartID)
}
func (s *Store) pinKey(cartID string) string { return s.keys + "/pins/" + hashID(cartID) }
func (s *Store) lockName(kind, id string) string {
	return s.locks + "." + kind + "." + id
}

// context bounds one operation.
func (s *Store) context() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

// load reads a key; a missing key is ok == false without error.
func (s *Store) load(ctx context.Context, key string) (value []byte, ok bool, err error) {
	v, err := s.storage.Load(ctx, key)
	switch {
	case err == nil:
		return v, true, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("load from %s: %w", s, err)
}

// lockPoll is how long one attempt at a storage lock waits. Storages poll a held lock at
// their own pace (file storage once a second); attempts this short hand a released lock on
// within a few dozen milliseconds, and let firstWriter see a value stored meanwhile.
const lockPoll = 25 * time.Millisecond

// errBusy reports a lock held elsewhere after one attempt.
var errBusy = errors.New("lock held elsewhere")

// tryLock makes one short attempt at a storage lock: errBusy when it is held elsewhere.
func (s *Store) tryLock(ctx context.Context, name string) (unlock func(), err error) {
	attempt, cancel := context.WithTimeout(ctx, lockPoll)
	defer cancel()
	if err := s.storage.Lock(attempt, name); err != nil {
		if attempt.Err() != nil && ctx.Err() == nil {
			s.clearDeadFileLock(name)
			return nil, errBusy
		}
		return nil, err
	}
	return func() {
		if err := s.storage.Unlock(context.Background(), name); err != nil {
			s.log.Warn("storage lock not released; it expires as the storage lets locks expire",
				zap.String("lock", name), zap.String("storage", s.String()), zap.Error(err))
		}
	}, nil
}

// deadLockAge is how long a file storage lock file may stay empty before it is taken for its
// dead holder's: certmagic's own Lock waits 8 × 250 ms for such a file to be written.
const deadLockAge = 2 * time.Second

// clearDeadFileLock removes a file storage lock file that has been empty for deadLockAge.
// Its holder died between creating it and writing its timestamp, or while refreshing it
// (truncate, then write). File storage takes such a file for stale only after 2 s of retries
// within one Lock call, never within tryLock's short attempts: without this the lock could
// never be had again, and every order of its cart would be refused.
func (s *Store) clearDeadFileLock(name string) {
	fsto, ok := s.storage.(*certmagic.FileStorage)
	if !ok {
		return
	}
	// certmagic's lock file name for name (FileStorage.lockFilename, unexported).
	path := filepath.Join(fsto.Path, "locks", certmagic.StorageKeys.Safe(name)+".lock")
	info, err := os.Stat(path)
	if err != nil || info.Size() != 0 || time.Since(info.ModTime()) < deadLockAge {
		return
	}
	if err := os.Remove(path); err == nil {
		s.log.Warn("removed an empty storage lock file its holder left (the holder died while writing it)",
			zap.String("lock", name), zap.String("storage", s.String()))
	}
}

// lock takes a storage lock within ctx; the error says which lock and how long was waited.
func (s *Store) lock(ctx context.Context, name, what string) (unlock func(), err error) {
	for {
		unlock, err := s.tryLock(ctx, name)
		switch {
		case err == nil:
			return unlock, nil
		case errors.Is(err, errBusy):
			continue
		}
		return nil, s.lockError(what, err)
	}
}

func (s *Store) lockError(what string, err error) error {
	return fmt.Errorf("%s lock not obtained within %s from %s: %w", what, s.timeout, s, err)
}

// firstWriter stores value at key unless the key holds a value already, and returns what the
// key holds: the Exists-then-Store is atomic across instances under the storage's lock.
// While another instance holds the lock the key is read again between attempts, so waiting
// ends as soon as the other writer's value is there. fresh reports whether value was stored
// now.
func (s *Store) firstWriter(ctx context.Context, key, lockName, what string, value []byte) (stored []byte, fresh bool, err error) {
	for {
		if v, ok, err := s.load(ctx, key); err != nil || ok {
			return v, false, err
		}
		unlock, err := s.tryLock(ctx, lockName)
		if errors.Is(err, errBusy) {
			continue
		}
		if err != nil {
			return nil, false, s.lockError(what, err)
		}
		defer unlock()
		if v, ok, err := s.load(ctx, key); err != nil || ok {
			return v, false, err
		}
		if err := s.storage.Store(ctx, key, value); err != nil {
			return nil, false, fmt.Errorf("store %s in %s: %w", what, s, err)
		}
		return value, true, nil
	}
}
