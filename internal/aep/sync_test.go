package aep

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/caddy-audiences/caddy-audiences/internal/aep/aeptest"
	"github.com/caddy-audiences/caddy-audiences/internal/catalog"
	"github.com/caddy-audiences/caddy-audiences/internal/sources"
)

func ptr(b bool) *bool { return &b }

func TestSync(t *testing.T) {
	vip := catalog.Audience{ID: "vip", Name: "VIP shoppers", Description: "Top 5%", Origin: "Experience Platform",
		LastUpdated: "2026-11-20T14:03:00Z", Lifecycle: "published", Activated: ptr(true), Flows: []string{"commerce"}}
	bags := catalog.Audience{ID: "bags", Name: "Bag lovers", Origin: "Custom upload", LastUpdated: "2026-11-18T14:03:00Z",
		Lifecycle: "published", Activated: ptr(true), Flows: []string{"commerce"}}
	bagsBoth := bags
	bagsBoth.Flows = []string{"commerce", "old"}
	lapsed := catalog.Audience{ID: "lapsed", Name: "Lapsed customers", Origin: "Experience Platform",
		Lifecycle: "inactive", Activated: ptr(false), Flows: []string{"old"}}
	draft := catalog.Audience{ID: "draft", Name: "Draft audience", Origin: "Experience Platform",
		Lifecycle: "draft", Activated: ptr(true), Flows: []string{"email"}}
	vipBoth := vip
	vipBoth.Flows = []string{"commerce", "email"}

	tests := []struct {
		name     string
		flows    []string
		bulkSize int
		change   func(*aeptest.Fake)
		want     []catalog.Audience
		bulkGets int
		missing  []string // warned about in the log
	}{
		{name: "one enabled flow", flows: []string{"commerce"}, want: []catalog.Audience{bags, vip}, bulkGets: 1},
		{name: "a disabled flow does not activate", flows: []string{"commerce", "old"},
			want: []catalog.Audience{bagsBoth, lapsed, vip}, bulkGets: 1},
		{name: "only a disabled flow", flows: []string{"old"}, want: []catalog.Audience{
			func() catalog.Audience { b := bags; b.Activated, b.Flows = ptr(false), []string{"old"}; return b }(), lapsed}, bulkGets: 1},
		{name: "bulk-get in chunks", flows: []string{"commerce", "old", "email"}, bulkSize: 2,
			want: []catalog.Audience{bagsBoth, draft, lapsed, vipBoth}, bulkGets: 2},
		{name: "an audience the API does not know is kept and logged", flows: []string{"commerce"},
			change:   func(f *aeptest.Fake) { f.Audiences = f.Audiences[:1] },
			want:     []catalog.Audience{{ID: "bags", Activated: ptr(true), Flows: []string{"commerce"}}, vip},
			bulkGets: 1, missing: []string{"bags"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := platformFake()
			cfg, _ := serve(t, fake, tt.flows...)
			if tt.change != nil {
				tt.change(fake)
			}
			core, logs := observer.New(zap.DebugLevel)
			c := newTestClient(t, cfg, Options{BulkSize: tt.bulkSize, Logger: zap.New(core)})
			got, err := c.Sync(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Sync:\n%s\nwant\n%s", dump(got), dump(tt.want))
			}
			if n := fake.Calls(aeptest.EndpointBulkGet); n != tt.bulkGets {
				t.Errorf("%d bulk-get calls, want %d", n, tt.bulkGets)
			}
			var warned []string
			for _, e := range logs.FilterMessageSnippet("does not know").All() {
				warned = append(warned, e.ContextMap()["audience"].(string))
			}
			if !reflect.DeepEqual(warned, tt.missing) {
				t.Errorf("warned about %v, want %v", warned, tt.missing)
			}
			if r := fake.Refused(); len(r) > 0 {
				t.Errorf("the fake refused requests: %q", r)
			}
			// What Sync returns is a valid catalog.
			data, err := c.FetchCatalog(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if cat, err := catalog.Decode(data); err != nil || cat.Len() != len(tt.want) {
				t.Fatalf("catalog.Decode(FetchCatalog): %v\n%s", err, data)
			}
		})
	}
}

func dump(audiences []catalog.Audience) string {
	data, _ := catalog.Encode(audiences)
	return string(data)
}

func TestSyncErrors(t *testing.T) {
	tests := []struct {
		name  string
		flows []string
		kind  Kind
		text  string
	}{
		{"no flows", nil, "", "no flow IDs configured"},
		{"unknown flow", []string{"commerce", "gone"}, KindNotFound, `flow "gone": experience platform: GET /data/foundation/flowservice/flows/gone: status 404`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _ := serve(t, platformFake(), tt.flows...)
			_, err := newTestClient(t, cfg, Options{}).Sync(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.text) || (tt.kind != "" && Classify(err) != tt.kind) {
				t.Fatalf("err = %v (kind %q), want %q containing %q", err, Classify(err), tt.kind, tt.text)
			}
		})
	}
	cfg, _ := serve(t, platformFake())
	if _, err := newTestClient(t, cfg, Options{}).Sync(context.Background()); !errors.Is(err, ErrNoFlows) {
		t.Fatalf("err = %v, want ErrNoFlows", err)
	}
}

// TestOutageKeepsLastGoodCatalog runs the sync as a sources.Watcher would: Platform failing
// in every way keeps the catalog in force; a change is picked up once it answers again.
func TestOutageKeepsLastGoodCatalog(t *testing.T) {
	fake := platformFake()
	cfg, ts := serve(t, fake, "commerce")
	c := newTestClient(t, cfg, Options{MaxRetries: -1})
	w, err := sources.New(sources.Options{Location: c.String(), Fetch: c.FetchCatalog, Timeout: 5 * time.Second}, catalog.Decode)
	if err != nil {
		t.Fatal(err)
	}
	name := func() string { a, _ := w.Current().Get("vip"); return a.Name }
	if w.Current().Len() != 2 || name() != "VIP shoppers" {
		t.Fatalf("first sync: %+v", w.Current().All())
	}
	version := w.Status().Version
	ctx := context.Background()

	if changed, err := w.Reload(ctx); changed || err != nil || w.Status().Version != version {
		t.Fatalf("an unchanged Platform must not count as a new version: changed=%v err=%v", changed, err)
	}

	outages := []struct {
		name   string
		break_ func()
	}{
		{"bulk-get failing", func() { fake.Fail(aeptest.EndpointBulkGet, aeptest.Failure{Status: 503}) }},
		{"flow service failing", func() { fake.Fail(aeptest.EndpointFlow, aeptest.Failure{Status: 500}) }},
		{"IMS failing", func() { fake.ExpireTokens(); fake.Fail(aeptest.EndpointToken, aeptest.Failure{Status: 502}) }},
		{"rate limited", func() { fake.Fail(aeptest.EndpointFlow, aeptest.Failure{Status: 429, RetryAfter: "3600"}) }},
		{"the named flow deleted", func() {
			fake.SetFlows([]aeptest.Flow{{ID: "other", Name: "Other", Audiences: []string{"vip"}}})
		}},
	}
	for _, o := range outages {
		o.break_()
		if _, err := w.Reload(ctx); err == nil {
			t.Fatalf("%s: want an error", o.name)
		}
		if w.Current().Len() != 2 || name() != "VIP shoppers" {
			t.Fatalf("%s: the last good catalog was lost: %+v", o.name, w.Current().All())
		}
		fake.ClearFailures()
		fake.SetFlows(platformFake().Flows)
	}
	if st := w.Status(); st.Failures != int64(len(outages)) || st.LastError == "" {
		t.Fatalf("status after the outages: %+v", st)
	}

	// Recovery with a renamed audience.
	audiences := platformFake().Audiences
	audiences[0].Name = "VIP customers"
	fake.SetAudiences(audiences)
	if changed, err := w.Reload(ctx); !changed || err != nil || name() != "VIP customers" || w.Status().LastError != "" {
		t.Fatalf("recovery: changed=%v err=%v name=%q status %+v", changed, err, name(), w.Status())
	}

	ts.Close() // Platform unreachable
	if _, err := w.Reload(ctx); err == nil || Classify(err) != KindUnavailable || name() != "VIP customers" {
		t.Fatalf("unreachable: err=%v name=%q", err, name())
	}
}

func TestOriginWords(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "Experience Platform",
		"REAL_TIME_CUSTOMER_PROFILE": "Experience Platform",
		"real_time_customer_profile": "Experience Platform",
		"CUSTOM_UPLOAD":              "Custom upload",
		"AUDIENCE_ORCHESTRATION":     "Audience composition",
		"SOME_NEW_ORIGIN":            "Some new origin",
		"élan":                       "Élan",
	} {
		if got := OriginWords(in); got != want {
			t.Errorf("OriginWords(%q) = %q, want %q", in, got, want)
		}
	}
}
