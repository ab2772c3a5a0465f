package aep

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/caddy-audiences/caddy-audiences/internal/catalog"
)

// Report is the outcome of a credential check: what worked, what Experience Platform shows
// the credential, and every problem in plain words. It holds no secret and encodes as JSON.
type Report struct {
	ClientID string `json:"client_id"`
	OrgID    string `json:"org_id"`
	Sandbox  string `json:"sandbox"`
	// TokenOK says whether IMS issued a token for the credential.
	TokenOK bool `json:"token_ok"`
	// AudiencesVisible is the number of audiences the audiences API lists for the sandbox;
	// -1 when it could not be read.
	AudiencesVisible int `json:"audiences_visible"`
	// Flows are the enabled destination flows the credential can see (discovery), sorted by
	// name; nil when they could not be listed.
	Flows []FlowSummary `json:"flows"`
	// Named are the flows the configuration names, in its order.
	Named []NamedFlow `json:"named_flows"`
	// Audiences are the audiences of the named flows as the catalog would hold them.
	Audiences []catalog.Audience `json:"audiences"`
	// Problems make the check fail; Warnings do not.
	Problems []Problem `json:"problems"`
	Warnings []string  `json:"warnings"`
	// Duration is how long the check took.
	Duration time.Duration `json:"duration"`
}

// FlowSummary is a destination flow found by discovery.
type FlowSummary struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Audiences int    `json:"audiences"`
	Named     bool   `json:"named"` // the configuration names it
}

// NamedFlow is what became of a flow the configuration names.
type NamedFlow struct {
	ID        string `json:"id"`
	Found     bool   `json:"found"`
	Name      string `json:"name,omitempty"`
	State     string `json:"state,omitempty"`
	Audiences int    `json:"audiences"`
}

// Problem is one failure, in plain words, with the technical cause.
type Problem struct {
	Step    string `json:"step"`    // token, audiences, flows, flow <id>, config
	Kind    Kind   `json:"kind"`    // what it means
	Message string `json:"message"` // plain words with what to do
	Cause   string `json:"cause"`   // the error itself, without secrets
}

// OK reports whether the check found no problem: the exit status of check-credentials.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Check tests cfg against Experience Platform: it validates the configuration, gets a token,
// reads the audiences API, lists the destination flows the credential can see, looks up the
// named flows and resolves their audiences. It never fails: everything that goes wrong is a
// problem of the report.
func Check(ctx context.Context, cfg Config, opts Options) *Report {
	started := time.Now()
	r := &Report{ClientID: cfg.ClientID, OrgID: cfg.OrgID, Sandbox: cmpOr(cfg.Sandbox, DefaultSandbox), AudiencesVisible: -1}
	defer func() { r.Duration = time.Since(started).Round(time.Millisecond) }()
	c, err := NewClient(cfg, opts)
	if err != nil {
		r.problem("config", err, cfg)
		return r
	}
	c.check(ctx, r)
	return r
}

func (c *Client) check(ctx context.Context, r *Report) {
	if _, err := c.tokens.Token(ctx); err != nil {
		r.problem("token", err, c.cfg)
		return // nothing else can work
	}
	r.TokenOK = true
	if n, err := c.CountAudiences(ctx); err != nil {
		r.problem("audiences", err, c.cfg)
	} else {
		r.AudiencesVisible = n
	}
	named := map[string]bool{}
	for _, id := range c.cfg.FlowIDs {
		named[id] = true
	}
	if flows, err := c.DestinationFlows(ctx); err != nil {
		r.problem("flows", err, c.cfg)
	} else {
		r.Flows = make([]FlowSummary, 0, len(flows))
		for _, f := range flows {
			r.Flows = append(r.Flows, FlowSummary{ID: f.ID, Name: f.Name, Audiences: len(f.Audiences), Named: named[f.ID]})
		}
		slices.SortFunc(r.Flows, func(a, b FlowSummary) int { return strings.Compare(a.Name+"\x00"+a.ID, b.Name+"\x00"+b.ID) })
		if len(flows) == 0 {
			r.warn(fmt.Sprintf("no enabled destination flow is visible in sandbox %q: activate audiences to the store's destination first, or check the sandbox", c.cfg.Sandbox))
		}
	}
	if len(c.cfg.FlowIDs) == 0 {
		r.warn("no flow IDs configured: the catalog sync needs the ID of the dataflow(s) that activate audiences to the store; pick from the flows listed")
		return
	}
	var found []Flow
	for _, id := range c.cfg.FlowIDs {
		f, err := c.Flow(ctx, id)
		if err != nil {
			r.Named = append(r.Named, NamedFlow{ID: id})
			r.problem("flow "+id, err, c.cfg)
			continue
		}
		r.Named = append(r.Named, NamedFlow{ID: id, Found: true, Name: f.Name, State: f.State, Audiences: len(f.Audiences)})
		switch {
		case !f.Destination:
			r.warn(fmt.Sprintf("flow %s (%s) is not a destination flow: it activates no audience", id, f.Name))
		case !f.Enabled():
			r.warn(fmt.Sprintf("flow %s (%s) is %s: its audiences count as not activated", id, f.Name, cmpOr(f.State, "not enabled")))
		case len(f.Audiences) == 0:
			r.warn(fmt.Sprintf("flow %s (%s) selects no audience", id, f.Name))
		}
		found = append(found, f)
	}
	ids := flowAudienceIDs(found)
	if len(ids) == 0 {
		return
	}
	details, err := c.GetAudiences(ctx, ids)
	if err != nil {
		r.problem("audiences", err, c.cfg)
		return
	}
	audiences, missing := buildCatalog(found, details)
	r.Audiences = audiences
	for _, id := range missing {
		r.warn(fmt.Sprintf("audience %s is selected by a named flow but unknown to the audiences API (deleted?)", id))
	}
	for _, a := range audiences {
		if w := a.Warning(); w != "" {
			r.warn(fmt.Sprintf("audience %s (%s): %s", a.ID, a.Name, w))
		}
	}
}

// problem records err once per distinct meaning: a wrong sandbox fails every call alike.
func (r *Report) problem(step string, err error, cfg Config) {
	p := Problem{Step: step, Kind: Classify(err), Message: Explain(err, cfg), Cause: err.Error()}
	for _, seen := range r.Problems {
		if seen.Kind == p.Kind && seen.Message == p.Message {
			return
		}
	}
	r.Problems = append(r.Problems, p)
}

func (r *Report) warn(w string) { r.Warnings = append(r.Warnings, w) }

// String is the report as WriteText prints it.
func (r *Report) String() string {
	var b strings.Builder
	_ = r.WriteText(&b)
	return b.String()
}

// WriteText prints the report for a terminal: the identity checked, one line per step, the
// flows and audiences found, the problems with what to do, the warnings and a verdict.
func (r *Report) WriteText(w io.Writer) error {
	p := &printer{w: w}
	p.line("Experience Platform credential check")
	p.line("  client ID  %s", r.ClientID)
	p.line("  org ID     %s", r.OrgID)
	p.line("  sandbox    %s", r.Sandbox)
	p.line("")
	p.step(r.TokenOK, "token", "IMS issued an access token", "no access token")
	if r.TokenOK {
		p.step(r.AudiencesVisible >= 0, "audiences", fmt.Sprintf("%d audiences visible in the sandbox", r.AudiencesVisible), "the audiences API could not be read")
		p.step(r.Flows != nil, "flows", fmt.Sprintf("%d enabled destination flows visible", len(r.Flows)), "the destination flows could not be listed")
	}
	var flows [][]string
	for _, f := range r.Flows {
		mark := ""
		if f.Named {
			mark = "[named]"
		}
		flows = append(flows, []string{f.ID, f.Name, fmt.Sprintf("%d audiences", f.Audiences), mark})
	}
	p.table("             ", flows)
	for _, f := range r.Named {
		if f.Found {
			p.step(true, "flow", fmt.Sprintf("%s  %s: %s, %d audiences", f.ID, f.Name, f.State, f.Audiences), "")
		} else {
			p.step(false, "flow", "", f.ID+" not found or not readable")
		}
	}
	if len(r.Audiences) > 0 {
		p.line("")
		p.line("Audiences of the named flows (%d):", len(r.Audiences))
		var rows [][]string
		for _, a := range r.Audiences {
			state := a.Lifecycle
			if a.Activated != nil && !*a.Activated {
				state += ", not activated"
			}
			rows = append(rows, []string{a.ID, a.Name, "[" + strings.TrimPrefix(state, ", ") + "]", a.Origin, a.LastUpdated})
		}
		p.table("  ", rows)
	}
	if len(r.Problems) > 0 {
		p.line("")
		p.line("Problems:")
		for _, pr := range r.Problems {
			p.line("  - %s: %s", pr.Step, pr.Message)
			p.line("    (%s)", pr.Cause)
		}
	}
	if len(r.Warnings) > 0 {
		p.line("")
		p.line("Warnings:")
		for _, w := range r.Warnings {
			p.line("  - %s", w)
		}
	}
	p.line("")
	if r.OK() {
		p.line("Result: OK (%s, %v)", plural(len(r.Warnings), "warning"), r.Duration)
	} else {
		p.line("Result: FAILED, %s (%v)", plural(len(r.Problems), "problem"), r.Duration)
	}
	return p.err
}

// printer writes lines and keeps the first error.
type printer struct {
	w   io.Writer
	err error
}

// line prints one line; control characters that came from Platform (names, messages) are
// shown as spaces, so an answer cannot drive the terminal.
func (p *printer) line(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintln(p.w, noControl(fmt.Sprintf(format, args...)))
	}
}

func noControl(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// table prints rows with aligned columns, each line indented.
func (p *printer) table(indent string, rows [][]string) {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		for i, cell := range row {
			row[i] = noControl(cell)
		}
		fmt.Fprintln(tw, indent+strings.Join(row, "\t"))
	}
	_ = tw.Flush()
	for line := range strings.Lines(b.String()) {
		p.line("%s", strings.TrimRight(line, " \n"))
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func (p *printer) step(ok bool, name, good, bad string) {
	if ok {
		p.line("OK    %-10s %s", name, good)
	} else {
		p.line("FAIL  %-10s %s", name, bad)
	}
}
