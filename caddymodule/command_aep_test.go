package caddymodule

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/caddy-audiences/caddy-audiences/internal/aep/aeptest"
)

const (
	aepOrg    = "53A16ACB5CC1D3760A495C99@AdobeOrg"
	aepClient = "0123abcdef"
	aepSecret = "p8e-very-secret-value"
)

func fakePlatform(t *testing.T) *httptest.Server {
	t.Helper()
	fake := &aeptest.Fake{ClientID: aepClient, ClientSecret: aepSecret, OrgID: aepOrg,
		Audiences: []aeptest.Audience{{ID: segVIP, Name: "VIP shoppers"}, {ID: segBags, Name: "Bag lovers", Lifecycle: "inactive"}},
		Flows:     []aeptest.Flow{{ID: "flow-commerce", Name: "Commerce destination", Audiences: []string{segVIP, segBags}}},
	}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return srv
}

// runAudiences runs `caddy audiences args...` through cobra, as caddy's main would.
func runAudiences(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	return runAudiencesIn(t, "", args...)
}

// runAudiencesIn is runAudiences with stdin.
func runAudiencesIn(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	root := &cobra.Command{Use: "caddy", SilenceUsage: true}
	cmd := &cobra.Command{Use: "audiences"}
	buildAudiencesCommand(cmd)
	root.AddCommand(cmd)
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(append([]string{"audiences"}, args...))
	err := root.Execute()
	return out.String(), errOut.String(), err
}

// aepCaddyfile writes a Caddyfile whose audiences handler has the directives in extra and
// reads its catalog from the fake Platform at url, its secret from AEP_TEST_SECRET.
func aepCaddyfile(t *testing.T, url, extra string) string {
	t.Helper()
	return writeFile(t, "Caddyfile", `:8080 {
	audiences {
`+extra+`		audiences aep {
			client_id `+aepClient+`
			client_secret {env.AEP_TEST_SECRET}
			org_id `+aepOrg+`
			flow_ids flow-commerce
			ims_url `+url+`
			platform_url `+url+`
		}
	}
	respond ok
}
`)
}

func TestCheckCredentials(t *testing.T) {
	srv := fakePlatform(t)
	base := []string{"check-credentials", "--ims-url", srv.URL, "--platform-url", srv.URL, "--org-id", aepOrg, "--client-id", aepClient, "--flow-ids", "flow-commerce"}

	t.Setenv("AEP_TEST_SECRET", aepSecret)
	out, _, err := runAudiences(t, append(base, "--client-secret", "{env.AEP_TEST_SECRET}")...)
	if err != nil || !strings.Contains(out, "Commerce destination") || !strings.Contains(out, "VIP shoppers") {
		t.Fatalf("good credential: %v\n%s", err, out)
	}
	out, errOut, err := runAudiences(t, append(base, "--client-secret", "wrong-secret")...)
	if err == nil || strings.Contains(out+errOut, "wrong-secret") || strings.Contains(out+errOut, aepSecret) {
		t.Fatalf("bad secret: exit %v, secret shown or accepted:\n%s%s", err, out, errOut)
	}
	if !strings.Contains(strings.ToLower(out), "secret") {
		t.Fatalf("the report does not say the secret is wrong:\n%s", out)
	}

	// The same values from a Caddyfile.
	caddyfile := aepCaddyfile(t, srv.URL, "")
	if out, errOut, err := runAudiences(t, "check-credentials", "--config", caddyfile); err != nil || !strings.Contains(out, "Commerce destination") {
		t.Fatalf("from the Caddyfile: %v\n%s%s", err, out, errOut)
	}
}

// TestAEPCatalog provisions a handler whose catalog comes from the fake Platform: the
// audiences of the named flow are allowed, others dropped, and the secret is nowhere in the
// admin API's view of the source.
func TestAEPCatalog(t *testing.T) {
	srv := fakePlatform(t)
	t.Setenv("AEP_TEST_SECRET", aepSecret)
	h := provisioned(t, &Handler{Name: "aep-catalog", AudiencesAEP: &AEPConfig{
		ClientID: aepClient, ClientSecret: "{env.AEP_TEST_SECRET}", OrgID: aepOrg, FlowIDs: []string{"flow-commerce"},
		IMSURL: srv.URL, PlatformURL: srv.URL,
	}})
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return h.state.audienceCatalog() != nil })
	cat := h.state.audienceCatalog()
	a, ok := cat.Get(segBags)
	if !ok || a.Name != "Bag lovers" || a.Warning() == "" {
		t.Fatalf("catalog entry %+v %v", a, ok)
	}
	if !h.membership.Allow(segVIP) || h.membership.Allow("not-activated-anywhere") {
		t.Fatal("the allow-list does not follow the synced catalog")
	}
	_, status := h.state.sourceStatus()
	if status == nil || strings.Contains(status.Source, aepSecret) || !strings.Contains(status.Source, aepOrg) {
		t.Fatalf("source status %+v", status)
	}
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
	}
}

// TestValidateAgainstTheCatalog: validate warns of rules naming a deactivated audience, and
// of one the catalog lacks, whether the catalog is a file or the Caddyfile's Experience
// Platform source.
func TestValidateAgainstTheCatalog(t *testing.T) {
	srv := fakePlatform(t)
	rulesPath := writeFile(t, "rules.json", `{"rules": [
		{"id": "bags", "audiences": {"any": ["`+segBags+`"]}, "action": {"type": "by_percent", "amount": 10}},
		{"id": "ghost", "audiences": {"any": ["never-activated"]}, "action": {"type": "by_percent", "amount": 5}}]}`)
	t.Setenv("AEP_TEST_SECRET", aepSecret)
	caddyfile := aepCaddyfile(t, srv.URL, "\t\trules "+rulesPath+"\n")
	out, errOut, err := runAudiences(t, "validate", "--rules", rulesPath, "--config", caddyfile)
	if err != nil || !strings.Contains(out, "valid: 2 rules") {
		t.Fatalf("validate: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(errOut, `"bags"`) || !strings.Contains(errOut, "deactivated") || !strings.Contains(errOut, "never-activated") {
		t.Fatalf("warnings missing:\n%s", errOut)
	}
	if strings.Contains(out+errOut, aepSecret) {
		t.Fatal("the secret was printed")
	}
}
