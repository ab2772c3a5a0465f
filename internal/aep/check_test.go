package aep

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/caddy-audiences/caddy-audiences/internal/aep/aeptest"
)

func TestCheckHappy(t *testing.T) {
	fake := platformFake()
	cfg, _ := serve(t, fake, "commerce", "old")
	r := Check(context.Background(), cfg, Options{})
	if !r.OK() || !r.TokenOK || r.AudiencesVisible != 3 {
		t.Fatalf("report %+v", r)
	}
	wantFlows := []FlowSummary{{ID: "commerce", Name: "Adobe Commerce", Audiences: 2, Named: true}, {ID: "email", Name: "Email marketing", Audiences: 2}}
	if len(r.Flows) != 2 || r.Flows[0] != wantFlows[0] || r.Flows[1] != wantFlows[1] {
		t.Fatalf("discovered flows %+v, want %+v", r.Flows, wantFlows)
	}
	wantNamed := []NamedFlow{{ID: "commerce", Found: true, Name: "Adobe Commerce", State: "enabled", Audiences: 2},
		{ID: "old", Found: true, Name: "Old Commerce flow", State: "disabled", Audiences: 2}}
	if len(r.Named) != 2 || r.Named[0] != wantNamed[0] || r.Named[1] != wantNamed[1] {
		t.Fatalf("named flows %+v", r.Named)
	}
	if len(r.Audiences) != 3 {
		t.Fatalf("audiences %+v", r.Audiences)
	}
	wantWarnings := []string{
		"flow old (Old Commerce flow) is disabled: its audiences count as not activated",
		"audience lapsed (Lapsed customers): deactivated in Experience Platform; not activated to the store's destination",
	}
	if strings.Join(r.Warnings, "\n") != strings.Join(wantWarnings, "\n") {
		t.Fatalf("warnings:\n%s\nwant\n%s", strings.Join(r.Warnings, "\n"), strings.Join(wantWarnings, "\n"))
	}
	text := r.String()
	for _, want := range []string{
		"org ID     " + testOrg,
		"sandbox    prod",
		"OK    token      IMS issued an access token",
		"OK    audiences  3 audiences visible in the sandbox",
		"OK    flows      2 enabled destination flows visible",
		"             commerce  Adobe Commerce   2 audiences  [named]\n             email     Email marketing  2 audiences\n",
		"OK    flow       old  Old Commerce flow: disabled, 2 audiences",
		"  lapsed  Lapsed customers  [inactive, not activated]  Experience Platform\n",
		"Warnings:\n  - flow old",
		"Result: OK (2 warnings, ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the text lacks %q:\n%s", want, text)
		}
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatal(err)
	}
}

func TestReportTextHasNoControlCharacters(t *testing.T) {
	fake := platformFake()
	fake.Audiences[0].Name = "VIP\x1b[2J\tshoppers\nfake line"
	cfg, _ := serve(t, fake, "commerce")
	text := Check(context.Background(), cfg, Options{}).String()
	if strings.Contains(text, "\x1b") || strings.Contains(text, "\t") || !strings.Contains(text, "VIP [2J shoppers fake line") {
		t.Fatalf("control characters reach the terminal:\n%q", text)
	}
}

func TestCheckWithoutFlows(t *testing.T) {
	fake := platformFake()
	fake.Flows = nil
	cfg, _ := serve(t, fake)
	r := Check(context.Background(), cfg, Options{})
	if !r.OK() || len(r.Warnings) != 2 || !strings.Contains(r.Warnings[0], "no enabled destination flow is visible") ||
		!strings.Contains(r.Warnings[1], "no flow IDs configured") {
		t.Fatalf("report %+v", r)
	}
}

// TestCheckTranslatesFailures drives every failure the issue names through the fake and reads
// the plain words of the report.
func TestCheckTranslatesFailures(t *testing.T) {
	tests := []struct {
		name   string
		fake   func(*aeptest.Fake)
		config func(*Config)
		step   string
		kind   Kind
		words  string // in the problem's message
		token  bool   // the token step still worked
	}{
		{name: "wrong secret", config: func(c *Config) { c.ClientSecret = "wrong" },
			step: "token", kind: KindCredentials, words: "refused the client ID or the client secret"},
		{name: "wrong client id", config: func(c *Config) { c.ClientID = "someone-else" },
			step: "token", kind: KindCredentials, words: "copy both again"},
		{name: "no product profile", fake: func(f *aeptest.Fake) { f.NoProductProfile = true },
			step: "audiences", kind: KindPermission, words: "add the project's credential to a product profile", token: true},
		{name: "no permission for destinations", fake: func(f *aeptest.Fake) { f.Denied = []string{aeptest.EndpointFlows, aeptest.EndpointFlow} },
			step: "flows", kind: KindPermission, words: "view audiences (Segmentation) and destinations", token: true},
		{name: "wrong sandbox", config: func(c *Config) { c.Sandbox = "stage" },
			step: "audiences", kind: KindSandbox, words: `does not know sandbox "stage"`, token: true},
		{name: "wrong org", config: func(c *Config) { c.OrgID = "0000000000000000000000AA@AdobeOrg" },
			step: "audiences", kind: KindOrg, words: `the org ID "0000000000000000000000AA@AdobeOrg" does not match the credential`, token: true},
		{name: "unknown flow", config: func(c *Config) { c.FlowIDs = []string{"commerce", "nope"} },
			step: "flow nope", kind: KindNotFound, words: `not found in sandbox "prod"`, token: true},
		{name: "Platform down", fake: func(f *aeptest.Fake) { f.Fail(aeptest.EndpointAudiences, aeptest.Failure{Status: 503}) },
			step: "audiences", kind: KindUnavailable, words: "try again later", token: true},
		{name: "IMS unreachable", config: func(c *Config) { c.IMSURL = closedURL(t) },
			step: "token", kind: KindUnavailable, words: "unreachable"},
		{name: "invalid config", config: func(c *Config) { c.OrgID = "nope" },
			step: "config", kind: KindConfig, words: "ends in @AdobeOrg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := platformFake()
			if tt.fake != nil {
				tt.fake(fake)
			}
			cfg, _ := serve(t, fake, "commerce")
			if tt.config != nil {
				tt.config(&cfg)
			}
			r := Check(context.Background(), cfg, Options{MaxRetries: -1})
			if r.OK() || len(r.Problems) == 0 {
				t.Fatalf("want a failed check: %+v", r)
			}
			p := r.Problems[0]
			if p.Step != tt.step || p.Kind != tt.kind || !strings.Contains(p.Message, tt.words) || r.TokenOK != tt.token {
				t.Fatalf("first problem %+v (token ok %v), want step %q kind %q with %q (token ok %v)",
					p, r.TokenOK, tt.step, tt.kind, tt.words, tt.token)
			}
			for i, other := range r.Problems[1:] {
				if other.Kind == p.Kind && other.Message == p.Message {
					t.Errorf("problem %d repeats the first: %+v", i+1, other)
				}
			}
			text := r.String()
			if !strings.Contains(text, tt.words) || !strings.Contains(text, "Result: FAILED") {
				t.Errorf("the text lacks the problem or the verdict:\n%s", text)
			}
		})
	}
}

// closedURL is the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}
