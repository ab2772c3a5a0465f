package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/spf13/cobra"

	"github.com/caddy-audiences/caddy-audiences/internal/aep"
	"github.com/caddy-audiences/caddy-audiences/internal/catalog"
	"github.com/caddy-audiences/caddy-audiences/internal/report"
	"github.com/caddy-audiences/caddy-audiences/internal/sources"
)

// addCheckCredentials adds `caddy audiences check-credentials`: it gets a token, lists the
// destination flows the credential can see and the audiences of the named ones, and says
// plainly what is wrong; exit status 0 only when nothing is.
func addCheckCredentials(cmd *cobra.Command) {
	check := &cobra.Command{
		Use:   "check-credentials [--config Caddyfile [--handler name]] [--client-id …] [--client-secret …] [--org-id …] [--sandbox …] [--flow-ids a,b]",
		Short: "Tests the Experience Platform credential of the audience catalog and lists what it can see",
		Long: `Tests the OAuth Server-to-Server credential the audience catalog is read with.
Values come from the Caddyfile's "audiences aep { … }" block (--config), from the flags, or
from the environment (AEP_CLIENT_ID, AEP_CLIENT_SECRET, AEP_ORG_ID, AEP_SANDBOX, AEP_FLOW_IDS);
flags win. Secrets may be written as {env.NAME}. Exits 0 when the credential works and every
named flow was found, 1 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return exitCode(c, runCheckCredentials(c, c.OutOrStdout(), c.ErrOrStderr()))
		},
	}
	f := check.Flags()
	f.String("config", "", "Caddyfile to take the audiences aep block from")
	f.String("adapter", "caddyfile", "Config adapter of --config")
	f.String("handler", "", "Name of the audiences handler (when the config has several)")
	f.String("client-id", "", "Client ID of the credential")
	f.String("client-secret", "", "Client secret of the credential ({env.NAME} works)")
	f.String("org-id", "", "IMS organization, …@AdobeOrg")
	f.String("sandbox", "", "Sandbox (default prod)")
	f.String("flow-ids", "", "Comma-separated destination dataflow IDs")
	f.String("ims-url", "", "IMS origin (tests only)")
	f.String("platform-url", "", "Platform origin (tests only)")
	f.Duration("timeout", time.Minute, "How long the whole check may take")
	f.Bool("json", false, "Print the report as JSON")
	cmd.AddCommand(check)
}

func runCheckCredentials(c *cobra.Command, stdout, stderr io.Writer) int {
	cfg, err := credentialConfig(c)
	if err != nil {
		fmt.Fprintf(stderr, "audiences check-credentials: %v\n", err)
		return 1
	}
	timeout, _ := c.Flags().GetDuration("timeout")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	check := aep.Check(ctx, cfg.resolved(), aep.Options{})
	if asJSON, _ := c.Flags().GetBool("json"); asJSON {
		b, _ := json.MarshalIndent(check, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else if err := check.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "audiences check-credentials: %v\n", err)
		return 1
	}
	if !check.OK() {
		return 1
	}
	return 0
}

// credentialConfig gathers the aep configuration: the config file's block, then the
// environment, then the flags.
func credentialConfig(c *cobra.Command) (*AEPConfig, error) {
	cfg := &AEPConfig{}
	if path, _ := c.Flags().GetString("config"); path != "" {
		adapter, _ := c.Flags().GetString("adapter")
		handler, _ := c.Flags().GetString("handler")
		fromFile, err := aepFromConfig(path, adapter, handler)
		if err != nil {
			return nil, err
		}
		cfg = fromFile
	}
	set := func(dst *string, env, flag string) {
		if v := os.Getenv(env); v != "" && *dst == "" {
			*dst = v
		}
		if v, _ := c.Flags().GetString(flag); v != "" {
			*dst = v
		}
	}
	set(&cfg.ClientID, "AEP_CLIENT_ID", "client-id")
	set(&cfg.ClientSecret, "AEP_CLIENT_SECRET", "client-secret")
	set(&cfg.OrgID, "AEP_ORG_ID", "org-id")
	set(&cfg.Sandbox, "AEP_SANDBOX", "sandbox")
	set(&cfg.IMSURL, "", "ims-url")
	set(&cfg.PlatformURL, "", "platform-url")
	flows := strings.Join(cfg.FlowIDs, ",")
	set(&flows, "AEP_FLOW_IDS", "flow-ids")
	cfg.FlowIDs = nil
	for _, id := range strings.Split(flows, ",") {
		if id = strings.TrimSpace(id); id != "" {
			cfg.FlowIDs = append(cfg.FlowIDs, id)
		}
	}
	return cfg, nil
}

// aepFromConfig adapts a config file and returns the aep block of its audiences handler.
func aepFromConfig(path, adapterName, handler string) (*AEPConfig, error) {
	found, err := configHandlers(path, adapterName)
	if err != nil {
		return nil, err
	}
	for _, h := range found {
		if h.AudiencesAEP != nil && h.named(handler) {
			return h.AudiencesAEP, nil
		}
	}
	return nil, fmt.Errorf("%s: no audiences handler with an \"audiences aep\" block", path)
}

// configHandlers adapts a config file and returns its audiences handlers.
func configHandlers(path, adapterName string) ([]Handler, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	adapter := caddyconfig.GetAdapter(adapterName)
	if adapter == nil {
		return nil, fmt.Errorf("unknown config adapter %q", adapterName)
	}
	out, _, err := adapter.Adapt(raw, map[string]any{"filename": path})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var doc any
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, err
	}
	var found []Handler
	collectHandlers(doc, &found)
	return found, nil
}

// named reports whether a handler read from a config file answers to the --handler flag's
// name: any for "", and DefaultName for a handler without a name.
func (h *Handler) named(name string) bool {
	return name == "" || h.Name == name || name == DefaultName && h.Name == ""
}

// collectHandlers finds every audiences handler in an adapted config.
func collectHandlers(v any, out *[]Handler) {
	switch v := v.(type) {
	case map[string]any:
		if v["handler"] == "audiences" {
			b, _ := json.Marshal(v)
			var h Handler
			if json.Unmarshal(b, &h) == nil {
				*out = append(*out, h)
			}
			return
		}
		for _, x := range v {
			collectHandlers(x, out)
		}
	case []any:
		for _, x := range v {
			collectHandlers(x, out)
		}
	}
}

// runValidate checks a rule file, against the catalog of --audiences or of the --config's
// audiences handler when given.
func runValidate(c *cobra.Command) int {
	path, _ := c.Flags().GetString("rules")
	cat, err := validationCatalog(c)
	if err != nil {
		fmt.Fprintf(c.ErrOrStderr(), "audiences validate: %v\n", err)
		return 1
	}
	return report.ValidateWith(c.OutOrStdout(), c.ErrOrStderr(), path, cat)
}

// validationCatalog loads the catalog to check rules against, or nil.
func validationCatalog(c *cobra.Command) (*catalog.Catalog, error) {
	location, _ := c.Flags().GetString("audiences")
	configPath, _ := c.Flags().GetString("config")
	var aepCfg *AEPConfig
	if configPath != "" {
		handler, _ := c.Flags().GetString("handler")
		h, err := handlerFromConfig(configPath, handler)
		if err != nil {
			return nil, err
		}
		location, aepCfg = h.Audiences, h.AudiencesAEP
	}
	ctx, cancel := context.WithTimeout(context.Background(), aepTimeout)
	defer cancel()
	switch {
	case aepCfg != nil:
		client, err := newAEPClient(aepCfg, nil)
		if err != nil {
			return nil, err
		}
		data, err := client.FetchCatalog(ctx)
		if err != nil {
			return nil, fmt.Errorf("audience catalog from Experience Platform: %w", err)
		}
		return catalog.Decode(data)
	case location != "":
		w, err := sources.New(sources.Options{Location: location}, catalog.Decode)
		if err != nil {
			return nil, fmt.Errorf("audience catalog: %w", err)
		}
		return w.Current(), nil
	}
	return nil, nil
}

// handlerFromConfig returns the audiences handler of a Caddyfile: the one named handler, or
// the first.
func handlerFromConfig(path, handler string) (*Handler, error) {
	found, err := configHandlers(path, "caddyfile")
	if err != nil {
		return nil, err
	}
	for i := range found {
		if found[i].named(handler) {
			return &found[i], nil
		}
	}
	return nil, fmt.Errorf("%s: no audiences handler %q", path, handler)
}
