// Command fakeaep serves a fake Adobe Experience Platform on loopback for manual and
// end-to-end tests of the audience catalog sync and the credential check: IMS's token endpoint
// (/ims/token/v3), the audiences API with bulk-get (/data/core/ups/audiences...) and the Flow
// Service's dataflows (/data/foundation/flowservice/flows...), from a data file.
//
//	fakeaep -data FILE -client-id ID -client-secret SECRET -org ORG@AdobeOrg
//	        [-listen 127.0.0.1:0] [-sandbox prod] [-page-size 50] [-expires-in 86399]
//
// FILE holds {"audiences": [{"id", "name", "description", "originName", "lifecycleState",
// "type", "updated"}], "flows": [{"id", "name", "state", "source", "audiences": [ids]}]};
// examples/fakeaep.json is one. Point the client's IMS and Platform URLs at the address it
// logs ("fakeaep: listening on ADDR"). It checks every call's headers, answers a wrong
// secret, org or sandbox the way Platform does, logs refused requests, and stops on SIGINT or
// SIGTERM.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/caddy-audiences/caddy-audiences/internal/aep/aeptest"
	"github.com/caddy-audiences/caddy-audiences/internal/loopback"
	"github.com/caddy-audiences/caddy-audiences/internal/servecmd"
)

// config is what the flags set.
type config struct {
	listen, data, clientID, clientSecret, org, sandbox string
	pageSize, expiresIn                                int
}

func main() {
	var cfg config
	flag.StringVar(&cfg.listen, "listen", "127.0.0.1:0", "loopback address to listen on")
	flag.StringVar(&cfg.data, "data", "", `JSON file {"audiences": [...], "flows": [...]} (required)`)
	flag.StringVar(&cfg.clientID, "client-id", "", "client ID the token endpoint accepts (required)")
	flag.StringVar(&cfg.clientSecret, "client-secret", "", "client secret the token endpoint accepts (required)")
	flag.StringVar(&cfg.org, "org", "", "IMS org every Platform call must carry in x-gw-ims-org-id (required)")
	flag.StringVar(&cfg.sandbox, "sandbox", "prod", "the one sandbox that exists")
	flag.IntVar(&cfg.pageSize, "page-size", 50, "most audiences or flows per page")
	flag.IntVar(&cfg.expiresIn, "expires-in", 86399, "token lifetime in seconds")
	flag.Parse()
	log.SetFlags(0)
	if err := run(cfg); err != nil {
		log.Fatalf("fakeaep: %v", err)
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
	return servecmd.Run("fakeaep", ln, fake)
}

// newFake builds the fake from the flags and the data file.
func newFake(cfg config) (*aeptest.Fake, error) {
	switch {
	case cfg.data == "":
		return nil, errors.New("-data is required")
	case cfg.clientID == "" || cfg.clientSecret == "" || cfg.org == "":
		return nil, errors.New("-client-id, -client-secret and -org are required")
	case cfg.pageSize < 1 || cfg.expiresIn < 1:
		return nil, errors.New("-page-size and -expires-in must be positive")
	}
	f, err := os.Open(cfg.data)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := aeptest.DataFromJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.data, err)
	}
	fake := &aeptest.Fake{
		ClientID: cfg.clientID, ClientSecret: cfg.clientSecret, OrgID: cfg.org, Sandbox: cfg.sandbox,
		Audiences: data.Audiences, Flows: data.Flows, PageSize: cfg.pageSize, ExpiresIn: cfg.expiresIn,
	}
	fake.OnFailure = func(r *http.Request, reason string) {
		log.Printf("fakeaep: refused %s %s: %s", r.Method, r.URL.Path, reason)
	}
	return fake, nil
}
