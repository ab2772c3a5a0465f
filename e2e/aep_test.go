package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/caddy-audiences/caddy-audiences/internal/aep/aeptest"
)

const (
	aepOrg    = "53A16ACB5CC1D3760A495C99@AdobeOrg"
	aepClient = "e2e-client-0123"
	aepSecret = "p8e-E2E-secret-do-not-show"
)

// TestAEPCatalog runs the binary with its audience catalog read from a fake Experience
// Platform: the activated audiences come in with their names, paging is followed, a renamed
// audience is renamed, an outage keeps the last good catalog, and the secret shows nowhere —
// not in the admin API, the dashboard, Caddy's config or its logs.
func TestAEPCatalog(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	fake := &aeptest.Fake{ClientID: aepClient, ClientSecret: aepSecret, OrgID: aepOrg, PageSize: 2,
		Audiences: []aeptest.Audience{
			{ID: segVIP, Name: "VIP shoppers", Description: "Top 5%"},
			{ID: segBOGO, Name: "Bag lovers"},
			{ID: segLapsed, Name: "Lapsed customers", Lifecycle: "inactive"},
			{ID: "9a0c4d2e-1f3b-4c5d-8e6f-7a8b9c0d1e2f", Name: "Newsletter", OriginName: "CUSTOM_UPLOAD"},
		},
		Flows: []aeptest.Flow{
			{ID: "flow-commerce", Name: "Adobe Commerce", Audiences: []string{segVIP, segBOGO, segLapsed}},
			{ID: "flow-email", Name: "Email", Audiences: []string{"9a0c4d2e-1f3b-4c5d-8e6f-7a8b9c0d1e2f"}},
		},
	}
	platform := httptest.NewServer(fake)
	defer platform.Close()
	t.Setenv("AEP_E2E_SECRET", aepSecret)
	store := startStore(t)
	sc := startSidecarWithAdmin(t, store, fmt.Sprintf(`audiences {
		rules testdata/rules.json
		audiences aep {
			client_id %s
			client_secret {env.AEP_E2E_SECRET}
			org_id %s
			flow_ids flow-commerce
			refresh 1s
			ims_url %s
			platform_url %s
		}
	}`, aepClient, aepOrg, platform.URL, platform.URL))

	waitUntil(t, "the catalog is synced", func() bool {
		return strings.Contains(adminGet(t, sc.admin, "/audiences"), `"VIP shoppers"`)
	})
	audiences := adminGet(t, sc.admin, "/audiences")
	if strings.Contains(audiences, "Newsletter") {
		t.Fatal("an audience of another destination is in the catalog")
	}
	// Activated audiences are allowed; others are dropped from membership.
	r := graphql(t, sc.base, `{ storeConfig { store_code } }`, nil, map[string]string{"aep-segments-membership": segVIP + "%2C9a0c4d2e-1f3b-4c5d-8e6f-7a8b9c0d1e2f"})
	if got := r.header.Get("X-Demo-Received-Segments"); got != segVIP {
		t.Fatalf("forwarded %q, want only the activated audience", got)
	}

	fake.SetAudiences(append([]aeptest.Audience{{ID: segVIP, Name: "VIP club", Description: "Top 5%"}}, fake.Audiences[1:]...))
	waitUntil(t, "the rename arrives", func() bool {
		return strings.Contains(adminGet(t, sc.admin, "/audiences"), `"VIP club"`)
	})

	fake.Fail(aeptest.EndpointFlow, aeptest.Failure{Status: http.StatusServiceUnavailable})
	fake.Fail(aeptest.EndpointFlows, aeptest.Failure{Status: http.StatusServiceUnavailable})
	waitUntil(t, "the outage is reported", func() bool {
		return strings.Contains(adminGet(t, sc.admin, "/audiences"), `"last_error"`)
	})
	if a := adminGet(t, sc.admin, "/audiences"); !strings.Contains(a, `"VIP club"`) {
		t.Fatalf("the outage lost the last good catalog: %s", a)
	}
	if got := graphql(t, sc.base, `{ storeConfig { store_code } }`, nil, map[string]string{"aep-segments-membership": segVIP}).header.Get("X-Demo-Received-Segments"); got != segVIP {
		t.Fatalf("during the outage membership became %q", got)
	}

	for _, path := range []string{"/audiences", "/audiences/rules", "/audiences/ui", "/config/"} {
		if body := adminGet(t, sc.admin, path); strings.Contains(body, aepSecret) {
			t.Fatalf("the secret shows in %s", path)
		}
	}
	if strings.Contains(sc.output.String(), aepSecret) {
		t.Fatal("the secret shows in Caddy's log")
	}
}

// TestAEPCheckCredentials runs `caddy audiences check-credentials` of the binary against the
// fake Platform: 0 and the flows for a good credential, 1 and plain words for a bad one, and
// the secret never printed.
func TestAEPCheckCredentials(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	fake := &aeptest.Fake{ClientID: aepClient, ClientSecret: aepSecret, OrgID: aepOrg,
		Audiences: []aeptest.Audience{{ID: segVIP, Name: "VIP shoppers"}},
		Flows:     []aeptest.Flow{{ID: "flow-commerce", Name: "Adobe Commerce", Audiences: []string{segVIP}}},
	}
	platform := httptest.NewServer(fake)
	defer platform.Close()
	run := func(secret string) (string, error) {
		cmd := exec.Command(caddyBin, "audiences", "check-credentials", "--client-id", aepClient, "--client-secret", "{env.AEP_E2E_SECRET}",
			"--org-id", aepOrg, "--flow-ids", "flow-commerce", "--ims-url", platform.URL, "--platform-url", platform.URL)
		cmd.Env = append(cmd.Environ(), "AEP_E2E_SECRET="+secret)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run(aepSecret)
	if err != nil || !strings.Contains(out, "Adobe Commerce") || !strings.Contains(out, "VIP shoppers") || strings.Contains(out, aepSecret) {
		t.Fatalf("good credential: %v\n%s", err, out)
	}
	out, err = run("not-the-secret")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || strings.Contains(out, "not-the-secret") || !strings.Contains(strings.ToLower(out), "secret") {
		t.Fatalf("bad credential: %v\n%s", err, out)
	}
}

// waitUntil polls cond for up to ten seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}
