package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/caddy-audiences/caddy-audiences/internal/catalog"
	"github.com/caddy-audiences/caddy-audiences/internal/edge"
	"github.com/caddy-audiences/caddy-audiences/internal/gate"
	"github.com/caddy-audiences/caddy-audiences/internal/merch"
	"github.com/caddy-audiences/caddy-audiences/internal/report"
	"github.com/caddy-audiences/caddy-audiences/internal/sources"
	"github.com/caddy-audiences/caddy-audiences/internal/trust"
	"github.com/caddy-audiences/caddy-audiences/rules"
)

// statePool holds every handler's live state — rule and catalog watchers, hit counters — so
// it survives config reloads while its sources stay the same, and the admin API can list it.
var statePool = caddy.NewUsagePool()

// stateKey is what determines a handler's state: equal keys share one state.
type stateKey struct {
	name, rules, audiences string
	interval               time.Duration
	candidateCache         int
	cartFields             string
	planCacheSize          int
	shared                 string // the shared storage with shared_state, "" in memory
}

// handlerState is the part of a handler that outlives one config.
type handlerState struct {
	name      string
	rules     *sources.Watcher[*rules.RuleSet]   // nil without rules
	catalog   *sources.Watcher[*catalog.Catalog] // nil without a catalog
	hits      *report.Hits
	plans     *planCache
	locks     *gate.Locks
	gates     gate.Cache
	gateStats gate.Stats
	merchHits report.MerchHits
	merch     *merch.Rewriter // caches the products and blocks merchandising adds
	pinsMu    sync.Mutex
	pins      *trust.Pins    // carts pinned to an ECID; shared across reloads
	resolvers edge.Resolvers // by configuration, reused across config reloads
	logger    atomic.Pointer[zap.Logger]
	createdAt time.Time
}

// stateConfig is what newHandlerState needs from the handler.
type stateConfig struct {
	name           string
	rules          string
	rulesInline    json.RawMessage
	audiences      string
	audInline      json.RawMessage
	aep            *AEPConfig
	interval       time.Duration
	candidateCache int
	cartFields     []string
	planCacheSize  int
	shared         string // see stateKey
	logger         *zap.Logger
}

func (c stateConfig) key() stateKey {
	return stateKey{
		name:           c.name,
		rules:          c.rules + "\x00" + sources.Version(c.rulesInline),
		audiences:      c.audiences + "\x00" + sources.Version(c.audInline) + "\x00" + c.aep.identity(),
		interval:       c.interval,
		candidateCache: c.candidateCache,
		cartFields:     strings.Join(c.cartFields, "\x00"),
		planCacheSize:  c.planCacheSize,
		shared:         c.shared,
	}
}

// loadState returns the shared state for c, creating it (and loading its sources) the first
// time. A source that cannot be loaded then fails provisioning with the loader's errors.
func loadState(c stateConfig) (*handlerState, error) {
	v, loaded, err := statePool.LoadOrNew(c.key(), func() (caddy.Destructor, error) {
		return newHandlerState(c)
	})
	if err != nil {
		return nil, err
	}
	s := v.(*handlerState)
	s.logger.Store(c.logger)
	if loaded {
		s.log().Debug("reusing rule set and caches across config reload", zap.String("handler", s.name))
	}
	return s, nil
}

func newHandlerState(c stateConfig) (*handlerState, error) {
	plans, err := newPlanCache(c.cartFields, c.planCacheSize)
	if err != nil {
		return nil, err
	}
	s := &handlerState{name: c.name, hits: report.NewHits(), locks: gate.NewLocks(), plans: plans, merch: merch.New(0, 0), createdAt: time.Now()}
	s.logger.Store(c.logger)
	switch {
	case c.aep != nil && c.aep.validate() == nil:
		w, err := s.aepCatalog(c)
		if err != nil {
			return nil, fmt.Errorf("audiences aep: %w", err)
		}
		s.catalog = w
	case c.audiences != "" || c.audInline != nil:
		w, err := sources.New(s.sourceOptions("audiences", c.audiences, c.audInline, c.interval), catalog.Decode)
		if err != nil {
			return nil, fmt.Errorf("audiences: %w", err)
		}
		s.catalog = w
	}
	if c.rules != "" || c.rulesInline != nil {
		compile := func(data []byte) (*rules.RuleSet, error) {
			return rules.Decode(data, rules.WithCacheSize(c.candidateCache))
		}
		w, err := sources.New(s.sourceOptions("rules", c.rules, c.rulesInline, c.interval), compile)
		if err != nil {
			s.stop()
			return nil, fmt.Errorf("rules: %w", err)
		}
		s.rules = w
		s.warnWeakCodes(w.Current())
	}
	s.warnUnknownAudiences()
	s.start()
	return s, nil
}

// aepCatalog watches the catalog synced from Experience Platform. It starts even when the
// Platform cannot be reached: the store must not wait for it.
func (s *handlerState) aepCatalog(c stateConfig) (*sources.Watcher[*catalog.Catalog], error) {
	client, err := newAEPClient(c.aep, c.logger)
	if err != nil {
		return nil, err
	}
	refresh := time.Duration(c.aep.Refresh)
	if refresh <= 0 {
		refresh = DefaultAEPRefresh
	}
	opt := s.sourceOptions("audiences", client.String(), nil, refresh)
	opt.Fetch, opt.Timeout, opt.Lenient = client.FetchCatalog, aepTimeout, true
	return sources.New(opt, catalog.Decode)
}

// sourceOptions logs and counts what happens to one source.
func (s *handlerState) sourceOptions(kind, location string, inline json.RawMessage, interval time.Duration) sources.Options {
	return sources.Options{
		Location: location,
		Inline:   inline,
		Interval: interval,
		OnError: func(err error) {
			metrics.reloadErrors.WithLabelValues(s.name).Inc()
			s.log().Warn("reload failed; keeping the last good version",
				zap.String("handler", s.name), zap.String("source", kind), zap.Error(err))
		},
		OnLoad: func(st sources.Status) {
			s.log().Info("loaded", zap.String("handler", s.name), zap.String("source", kind),
				zap.String("location", st.Source), zap.String("version", st.Version))
			if kind == "rules" {
				s.updateRuleGauge()
				if s.rules != nil {
					s.warnWeakCodes(s.rules.Current())
				}
			}
			if s.rules != nil && s.catalog != nil {
				s.warnUnknownAudiences()
			}
		},
	}
}

func (s *handlerState) log() *zap.Logger { return s.logger.Load() }

func (s *handlerState) start() {
	if s.rules != nil {
		s.rules.Start()
	}
	if s.catalog != nil {
		s.catalog.Start()
	}
	s.updateRuleGauge()
}

func (s *handlerState) stop() {
	if s.rules != nil {
		s.rules.Stop()
	}
	if s.catalog != nil {
		s.catalog.Stop()
	}
}

// Destruct stops the watchers when no config uses this state any more.
func (s *handlerState) Destruct() error {
	s.stop()
	return nil
}

// ruleSet returns the rule set in force, or nil.
func (s *handlerState) ruleSet() *rules.RuleSet {
	if s == nil || s.rules == nil {
		return nil
	}
	return s.rules.Current()
}

// audienceCatalog returns the catalog in force, or nil.
func (s *handlerState) audienceCatalog() *catalog.Catalog {
	if s == nil || s.catalog == nil {
		return nil
	}
	return s.catalog.Current()
}

// reload checks every source now.
func (s *handlerState) reload(ctx context.Context) error {
	if s.catalog != nil {
		if _, err := s.catalog.Reload(ctx); err != nil {
			return fmt.Errorf("audiences: %w", err)
		}
	}
	if s.rules != nil {
		if _, err := s.rules.Reload(ctx); err != nil {
			return fmt.Errorf("rules: %w", err)
		}
	}
	return nil
}

// warnUnknownAudiences logs the audiences that rules use but the catalog lacks.
func (s *handlerState) warnUnknownAudiences() {
	rs, cat := s.ruleSet(), s.audienceCatalog()
	if rs == nil || cat == nil {
		return
	}
	if missing := report.MissingAudiences(rs.Audiences(), cat); len(missing) > 0 {
		s.log().Warn("rules use audiences that are not in the audience catalog",
			zap.String("handler", s.name), zap.Strings("audiences", missing))
	}
}

func (s *handlerState) updateRuleGauge() {
	if rs := s.ruleSet(); rs != nil {
		metrics.rulesLoaded.WithLabelValues(s.name).Set(float64(rs.Len()))
	}
}

// Interface guard
var _ caddy.Destructor = (*handlerState)(nil)

// knownAudience reports whether id is an audience this handler knows from its rules or its
// catalog; only those get hit counters.
func (s *handlerState) knownAudience(id string) bool {
	if s.audienceCatalog().Has(id) {
		return true
	}
	rs := s.ruleSet()
	return rs != nil && rs.UsesAudience(id)
}

// cartPins returns the state's cart pins, created on first use and resized to size: a
// config reload keeps which ECID owns which cart.
func (s *handlerState) cartPins(size int) (*trust.Pins, error) {
	s.pinsMu.Lock()
	defer s.pinsMu.Unlock()
	if s.pins == nil {
		p, err := trust.NewPins(size)
		if err != nil {
			return nil, err
		}
		s.pins = p
		return p, nil
	}
	s.pins.Resize(size)
	return s.pins, nil
}

// edgeResolver returns the Edge Network resolver for a configuration, created once: a
// resolver's cache lives as long as the process, so reloads must share it.
func (s *handlerState) edgeResolver(opts edge.Options, ropts edge.ResolverOptions) (*edge.Resolver, error) {
	return s.resolvers.Get(opts, ropts)
}
