// Command fakeedge serves a fake Adobe Edge Network on loopback for end-to-end tests: the
// Server API's interact endpoint, answering each ECID with the segments of a profiles file,
// and, with -client-id, IMS's token endpoint at /ims/token/v3 for authenticated mode.
//
//	fakeedge -profiles FILE [-listen 127.0.0.1:0] [-datastream ID] [-org ORG@AdobeOrg]
//	         [-alias ALIAS] [-cluster REGION] [-client-id ID -client-secret SECRET]
//
// FILE holds {"<ecid>": ["segment-id", ...]}; an unknown ECID gets "payload": [], as a profile
// not yet on the edge. It checks the shape of every request (datastream, identityMap, the
// forwarded identity cookie when -org is set, the region path when -cluster is set, the auth
// headers with -client-id), refuses a malformed one with a problem+json 400 and logs why, and
// echoes the cluster cookie as a state:store entry. It logs "fakeedge: listening on ADDR" once
// it accepts connections and stops on SIGINT or SIGTERM.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/caddy-audiences/caddy-audiences/internal/edge/edgetest"
	"github.com/caddy-audiences/caddy-audiences/internal/loopback"
	"github.com/caddy-audiences/caddy-audiences/internal/servecmd"
)

// config is what the flags set.
type config struct {
	listen, profiles, datastream, org, alias, cluster, clientID, clientSecret string
}

func main() {
	var cfg config
	flag.StringVar(&cfg.listen, "listen", "127.0.0.1:0", "loopback address to listen on")
	flag.StringVar(&cfg.profiles, "profiles", "", `JSON file {"<ecid>": ["segment", ...]} (required)`)
	flag.StringVar(&cfg.datastream, "datastream", "", "datastream ID to require (default: any)")
	flag.StringVar(&cfg.org, "org", "", "IMS org ID; when set, the identity cookie must be forwarded and the cluster cookie is echoed")
	flag.StringVar(&cfg.alias, "alias", "", "alias of the destination the segments belong to")
	flag.StringVar(&cfg.cluster, "cluster", "", "region the request path must carry (default: any)")
	flag.StringVar(&cfg.clientID, "client-id", "", "turns on authenticated mode with this client ID")
	flag.StringVar(&cfg.clientSecret, "client-secret", "", "client secret for authenticated mode")
	flag.Parse()
	log.SetFlags(0)
	if err := run(cfg); err != nil {
		log.Fatalf("fakeedge: %v", err)
	}
}

func run(cfg config) error {
	if err := loopback.CheckListen(cfg.listen); err != nil {
		return err
	}
	fake, err := newFake(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return servecmd.Run("fakeedge", ln, fake)
}

// newFake builds the fake from the flags and the profiles file.
func newFake(cfg config) (*edgetest.Fake, error) {
	if cfg.profiles == "" {
		return nil, errors.New("-profiles is required")
	}
	if (cfg.clientID == "") != (cfg.clientSecret == "") {
		return nil, errors.New("-client-id and -client-secret go together")
	}
	f, err := os.Open(cfg.profiles)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	profiles, err := edgetest.ProfilesFromJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.profiles, err)
	}
	fake := &edgetest.Fake{
		DatastreamID: cfg.datastream,
		OrgID:        cfg.org,
		Cluster:      cfg.cluster,
		Destinations: []edgetest.Destination{{Alias: cfg.alias, Profiles: profiles}},
	}
	fake.OnFailure = func(r *http.Request, reason string) {
		log.Printf("fakeedge: refused %s %s: %s", r.Method, r.URL.Path, reason)
	}
	if cfg.clientID != "" {
		fake.Auth = &edgetest.Auth{ClientID: cfg.clientID, ClientSecret: cfg.clientSecret}
	}
	return fake, nil
}
