package e2e

import (
	"fmt"
	"testing"
)

// adminSidecar is a running sidecar with the addresses an admin test needs.
type adminSidecar struct {
	base      string // the site, http://host:port
	admin     string // Caddy's admin endpoint, host:port
	dashboard string // a site that proxies /audiences* to the admin endpoint, http://host:port
	output    *output
}

// startSidecarWithAdmin is startSidecar that also returns the admin endpoint's address and
// a dashboard site in front of it. Browsers cannot open Caddy's admin endpoint directly: a
// navigation carries Sec-Fetch-Mode but no Origin, and the admin answers 403. The dashboard
// site is the recipe for operators: only the /audiences paths, with Host and Origin set to
// the admin endpoint's own.
func startSidecarWithAdmin(t *testing.T, upstream, audiencesBlock string) adminSidecar {
	t.Helper()
	dash := freeAddr(t)
	sc := launchSidecarWithSites(t, upstream, audiencesBlock, func(admin string) string {
		return fmt.Sprintf(`http://%[2]s {
	@audiences path /audiences /audiences/*
	handle @audiences {
		reverse_proxy %[1]s {
			header_up Host {upstream_hostport}
			header_up Origin http://{upstream_hostport}
		}
	}
	handle {
		respond 404
	}
}
`, admin, dash)
	})
	s := adminSidecar{base: sc.base, admin: sc.admin, dashboard: "http://" + dash, output: sc.output}
	waitReady(t, s.dashboard+"/audiences")
	return s
}
