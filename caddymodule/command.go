package caddymodule

import (
	"errors"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/caddy-audiences/caddy-audiences/internal/report"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "audiences",
		Usage: "validate|simulate|check-credentials [flags]",
		Short: "Checks audience rule files and simulates carts against them",
		Long: `
Tools for merchandisers to check a promotion before it goes live.

  caddy audiences validate --rules rules.json
      [--audiences catalog.json | --config Caddyfile]
      Checks a rule file. Prints a one-line summary and exits 0 when it is
      valid; prints every problem on stderr and exits 1 otherwise. With a
      catalog (or the Caddyfile's, Experience Platform included) it also warns
      of rules naming audiences that are missing, deactivated or not activated.

  caddy audiences simulate --rules rules.json --cart cart.json
      [--segments ID,ID] [--at 2026-11-27T09:00:00-08:00] [--store default]
      Evaluates a cart snapshot for a shopper in the given audience segments and
      prints the discounts with a trace of every rule. --cart - reads stdin.

  caddy audiences check-credentials [--config Caddyfile] [--client-id …] …
      Tests the Experience Platform credential of the audience catalog: gets a
      token, lists the destination flows it can see and their audiences, and says
      plainly what is wrong. Exits 0 when everything works, 1 otherwise.
`,
		CobraFunc: buildAudiencesCommand,
	})
}

// errExit makes cobra exit with status 1 after the command printed its own message.
var errExit = errors.New("exit status 1")

// buildAudiencesCommand adds the validate and simulate subcommands to cmd.
func buildAudiencesCommand(cmd *cobra.Command) {
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }

	validate := &cobra.Command{
		Use:   "validate --rules <file> [--audiences <file|url> | --config <Caddyfile> [--handler <name>]]",
		Short: "Checks a rule file and lists every problem",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return exitCode(c, runValidate(c))
		},
	}
	validate.Flags().StringP("rules", "r", "", "Rule file to check (required)")
	validate.Flags().String("audiences", "", "Audience catalog (file or URL) to check the rules' audiences against")
	validate.Flags().String("config", "", "Caddyfile whose audiences handler's catalog (file, URL or Experience Platform) to check against")
	validate.Flags().String("handler", "", "Name of the audiences handler in --config")
	cmd.AddCommand(validate)

	simulate := &cobra.Command{
		Use:   "simulate --rules <file> --cart <file|-> [--segments <id,id>] [--at <time>] [--store <code>]",
		Short: "Evaluates a cart snapshot and explains every rule",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			var o report.SimulateOptions
			o.Rules, _ = c.Flags().GetString("rules")
			o.Cart, _ = c.Flags().GetString("cart")
			o.Segments, _ = c.Flags().GetString("segments")
			o.At, _ = c.Flags().GetString("at")
			o.Store, _ = c.Flags().GetString("store")
			return exitCode(c, report.Simulate(c.InOrStdin(), c.OutOrStdout(), c.ErrOrStderr(), o))
		},
	}
	simulate.Flags().StringP("rules", "r", "", "Rule file (required)")
	simulate.Flags().StringP("cart", "c", "", "Cart snapshot JSON file, or - for stdin (required)")
	simulate.Flags().StringP("segments", "s", "", "Comma-separated audience segment ids of the shopper")
	simulate.Flags().String("at", "", "Time to evaluate at: RFC 3339, or a date (midnight in the rule file's time zone); default now")
	simulate.Flags().String("store", "", "Store-view code; overrides the cart's store")
	cmd.AddCommand(simulate)
	addCheckCredentials(cmd)
}

// exitCode turns a status into what cobra needs: nil for 0, a silent error otherwise (the
// message was already printed).
func exitCode(c *cobra.Command, code int) error {
	if code == 0 {
		return nil
	}
	c.SilenceErrors = true
	c.SilenceUsage = true
	return errExit
}
