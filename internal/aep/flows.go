package aep

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// Flow is a dataflow of the Flow Service; for a destination flow, Audiences are the audiences
// it activates.
type Flow struct {
	ID          string
	Name        string
	State       string // enabled or disabled
	Destination bool   // inheritedAttributes.properties.isDestinationFlow
	Audiences   []FlowAudience
}

// Enabled reports whether the flow runs.
func (f Flow) Enabled() bool { return f.State == "enabled" }

// FlowAudience is an audience selected by a destination flow.
type FlowAudience struct {
	ID   string
	Name string // the name the flow recorded when the audience was selected
}

// destinationFilter is the Flow Service query for enabled destination flows.
var destinationFilter = url.Values{"property": {
	"inheritedAttributes.properties.isDestinationFlow==true",
	"state==enabled",
}}

// Wire shapes of the Flow Service; fields this client does not use are ignored.
type (
	wireFlow struct {
		ID                  string `json:"id"`
		Name                string `json:"name"`
		State               string `json:"state"`
		InheritedAttributes struct {
			Properties struct {
				IsDestinationFlow bool `json:"isDestinationFlow"`
			} `json:"properties"`
		} `json:"inheritedAttributes"`
		Transformations []struct {
			Params struct {
				SegmentSelectors struct {
					Selectors []struct {
						Type  string `json:"type"`
						Value struct {
							ID   string `json:"id"`
							Name string `json:"name"`
						} `json:"value"`
					} `json:"selectors"`
				} `json:"segmentSelectors"`
			} `json:"params"`
		} `json:"transformations"`
	}
	flowList struct {
		Items []wireFlow `json:"items"`
		Links links      `json:"_links"`
	}
)

func (w wireFlow) flow() Flow {
	f := Flow{ID: w.ID, Name: w.Name, State: w.State, Destination: w.InheritedAttributes.Properties.IsDestinationFlow}
	seen := map[string]bool{}
	for _, t := range w.Transformations {
		for _, s := range t.Params.SegmentSelectors.Selectors {
			if s.Type != "PLATFORM_SEGMENT" || s.Value.ID == "" || seen[s.Value.ID] {
				continue
			}
			seen[s.Value.ID] = true
			f.Audiences = append(f.Audiences, FlowAudience{ID: s.Value.ID, Name: s.Value.Name})
		}
	}
	return f
}

// DestinationFlows lists the enabled destination flows the credential can see in the sandbox,
// following the Flow Service's continuation links: the discovery of the credential check.
func (c *Client) DestinationFlows(ctx context.Context) ([]Flow, error) {
	u := c.endpoint(flowsPath, destinationFilter)
	seen := map[string]bool{}
	var all []Flow
	for range maxPages {
		raw, err := c.do(ctx, request{method: http.MethodGet, url: u})
		if err != nil {
			return nil, err
		}
		flows, nextHref, err := decodeFlowList(raw)
		if err != nil {
			return nil, fmt.Errorf("experience platform: GET %s: %w", flowsPath, err)
		}
		all = append(all, flows...)
		if nextHref == "" {
			return all, nil
		}
		if u, err = c.next(flowServicePath, nextHref); err != nil {
			return nil, fmt.Errorf("experience platform: GET %s: %w", flowsPath, err)
		}
		if seen[u.String()] {
			return nil, fmt.Errorf("experience platform: GET %s: %w: the continuation token repeats", flowsPath, ErrDecode)
		}
		seen[u.String()] = true
	}
	return nil, fmt.Errorf("experience platform: GET %s: more than %d pages", flowsPath, maxPages)
}

// Flow looks up one dataflow by ID, whatever its state.
func (c *Client) Flow(ctx context.Context, id string) (Flow, error) {
	path := flowsPath + "/" + url.PathEscape(id)
	raw, err := c.do(ctx, request{method: http.MethodGet, url: c.endpoint(path, nil)})
	if err != nil {
		return Flow{}, err
	}
	f, err := decodeFlow(raw, id)
	if err != nil {
		return Flow{}, fmt.Errorf("experience platform: GET %s: %w", path, err)
	}
	return f, nil
}

// decodeFlowList reads a page of flows and its continuation link ("" on the last page).
func decodeFlowList(raw []byte) ([]Flow, string, error) {
	var list flowList
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrDecode, err)
	}
	flows := make([]Flow, 0, len(list.Items))
	for i, w := range list.Items {
		if w.ID == "" {
			return nil, "", fmt.Errorf("%w: items[%d] has no id", ErrDecode, i)
		}
		flows = append(flows, w.flow())
	}
	return flows, list.Links.Next.Href, nil
}

// decodeFlow reads the answer to a lookup by ID: {"items": [flow]}, or the flow itself.
func decodeFlow(raw []byte, id string) (Flow, error) {
	flows, _, err := decodeFlowList(raw)
	if err != nil {
		return Flow{}, err
	}
	if len(flows) == 0 {
		var w wireFlow
		if json.Unmarshal(raw, &w) == nil && w.ID != "" {
			flows = []Flow{w.flow()}
		}
	}
	for _, f := range flows {
		if f.ID == id {
			return f, nil
		}
	}
	return Flow{}, fmt.Errorf("%w: the answer does not hold flow %q", ErrDecode, id)
}
