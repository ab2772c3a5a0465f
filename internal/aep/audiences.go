package aep

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Audience is an audience of the Segmentation Service, as the audiences API describes it.
type Audience struct {
	ID          string    // the audience's ID, the segment ID in membership
	AudienceID  string    // audienceId, the same as ID for Platform-generated audiences
	Name        string    // name
	Description string    // description
	Type        string    // SegmentDefinition or ExternalSegment
	OriginName  string    // where the audience comes from, such as REAL_TIME_CUSTOMER_PROFILE
	Lifecycle   string    // lifecycleState, lower case: draft, published or inactive
	Namespace   string    // namespace, such as AEPSegments
	Updated     time.Time // updateTime (ms) or updateEpoch (s); zero when absent
}

// Wire shapes of the audiences API; fields this client does not use are ignored.
type (
	wireAudience struct {
		ID             string          `json:"id"`
		AudienceID     string          `json:"audienceId"`
		Name           string          `json:"name"`
		Description    string          `json:"description"`
		Type           string          `json:"type"`
		OriginName     string          `json:"originName"`
		LifecycleState string          `json:"lifecycleState"`
		Namespace      string          `json:"namespace"`
		UpdateTime     json.RawMessage `json:"updateTime"`
		UpdateEpoch    json.RawMessage `json:"updateEpoch"`
	}
	audiencePage struct {
		Children []wireAudience `json:"children"`
		Page     struct {
			TotalCount json.RawMessage `json:"totalCount"`
			Next       json.RawMessage `json:"next"`
		} `json:"_page"`
		Links links `json:"_links"`
	}
	links struct {
		Next struct {
			Href string `json:"href"`
		} `json:"next"`
	}
	bulkAnswer struct {
		Results map[string]json.RawMessage `json:"results"`
	}
)

func (w wireAudience) audience() Audience {
	a := Audience{
		ID: w.ID, AudienceID: w.AudienceID, Name: w.Name, Description: w.Description, Type: w.Type,
		OriginName: w.OriginName, Lifecycle: strings.ToLower(w.LifecycleState), Namespace: w.Namespace,
	}
	if a.ID == "" {
		a.ID = w.AudienceID
	}
	if ms, ok := number(w.UpdateTime); ok && ms > 0 {
		a.Updated = time.UnixMilli(ms).UTC()
	} else if s, ok := number(w.UpdateEpoch); ok && s > 0 {
		a.Updated = time.Unix(s, 0).UTC()
	}
	return a
}

// number reads a JSON number or numeric string as an integer within ±2^53.
func number(raw json.RawMessage) (int64, bool) {
	text := scalar(raw)
	if text == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f > 1<<53 || f < -(1<<53) {
		return 0, false
	}
	return int64(f), true
}

// ListAudiences returns every audience the audiences API lists for the sandbox, following
// its paging cursor. Inactive audiences are not listed by the API; GetAudiences finds them.
func (c *Client) ListAudiences(ctx context.Context) ([]Audience, error) {
	var all []Audience
	_, err := c.walkAudiences(ctx, maxPages, func(page []Audience) { all = append(all, page...) })
	return all, err
}

// CountAudiences reads the first page of the audiences API and returns its total count: a
// cheap proof that the credential may read audiences.
func (c *Client) CountAudiences(ctx context.Context) (int, error) {
	seen := 0
	total, err := c.walkAudiences(ctx, 1, func(page []Audience) { seen += len(page) })
	if total < 0 {
		total = seen
	}
	return total, err
}

// walkAudiences hands each page to visit, for at most pages pages, and returns the total
// count the first page announced (-1 when it announced none).
func (c *Client) walkAudiences(ctx context.Context, pages int, visit func([]Audience)) (int, error) {
	u := c.endpoint(audiencesPath, url.Values{"limit": {strconv.Itoa(c.pageSize)}})
	seen := map[string]bool{}
	total := -1
	for n := 0; n < pages; n++ {
		raw, err := c.do(ctx, request{method: http.MethodGet, url: u})
		if err != nil {
			return total, err
		}
		page, nextHref, nextCursor, count, err := decodeAudiencePage(raw)
		if err != nil {
			return total, fmt.Errorf("experience platform: GET %s: %w", u.Path, err)
		}
		if n == 0 {
			total = count
		}
		visit(page)
		switch {
		case nextHref != "":
			u, err = c.next(upsPath, nextHref)
		case nextCursor != "":
			u = c.endpoint(audiencesPath, url.Values{"start": {nextCursor}, "limit": {strconv.Itoa(c.pageSize)}})
		default:
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("experience platform: GET %s: %w", audiencesPath, err)
		}
		if seen[u.String()] {
			return total, fmt.Errorf("experience platform: GET %s: %w: the paging cursor repeats", audiencesPath, ErrDecode)
		}
		seen[u.String()] = true
	}
	if pages == maxPages {
		return total, fmt.Errorf("experience platform: GET %s: more than %d pages", audiencesPath, maxPages)
	}
	return total, nil
}

// decodeAudiencePage reads one page of the audiences API: its audiences, the next link and
// cursor ("" on the last page) and the announced total count (-1 when absent).
func decodeAudiencePage(raw []byte) (page []Audience, nextHref, nextCursor string, total int, err error) {
	var p audiencePage
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, "", "", -1, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	for i, w := range p.Children {
		a := w.audience()
		if a.ID == "" {
			return nil, "", "", -1, fmt.Errorf("%w: children[%d] has no id", ErrDecode, i)
		}
		page = append(page, a)
	}
	total = -1
	if n, ok := number(p.Page.TotalCount); ok && n >= 0 && n <= 1<<31 {
		total = int(n)
	}
	return page, p.Links.Next.Href, scalar(p.Page.Next), total, nil
}

// GetAudiences resolves audience IDs with the bulk-get endpoint, inactive audiences included.
// IDs the API does not know are missing from the result.
func (c *Client) GetAudiences(ctx context.Context, ids []string) (map[string]Audience, error) {
	out := make(map[string]Audience, len(ids))
	for start := 0; start < len(ids); start += c.bulkSize {
		chunk := ids[start:min(start+c.bulkSize, len(ids))]
		type idRef struct {
			ID string `json:"id"`
		}
		refs := make([]idRef, len(chunk))
		for i, id := range chunk {
			refs[i] = idRef{id}
		}
		body, err := json.Marshal(map[string][]idRef{"ids": refs})
		if err != nil {
			return nil, fmt.Errorf("experience platform: bulk-get: %w", err)
		}
		raw, err := c.do(ctx, request{
			method: http.MethodPost, url: c.endpoint(bulkGetPath, nil), body: body,
			accept: []int{http.StatusOK, http.StatusMultiStatus},
		})
		if err != nil {
			return nil, err
		}
		found, err := decodeBulk(raw)
		if err != nil {
			return nil, fmt.Errorf("experience platform: POST %s: %w", bulkGetPath, err)
		}
		for id, a := range found {
			out[id] = a
		}
	}
	return out, nil
}

// decodeBulk reads a bulk-get answer. An entry that is an error (a status of 400 or more, or
// no audience ID) means the ID is unknown and is left out.
func decodeBulk(raw []byte) (map[string]Audience, error) {
	var answer bulkAnswer
	if err := json.Unmarshal(raw, &answer); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	out := make(map[string]Audience, len(answer.Results))
	for key, entry := range answer.Results {
		var probe struct {
			Status json.RawMessage `json:"status"`
		}
		if json.Unmarshal(entry, &probe) != nil {
			continue // null or not an object: unknown
		}
		if status, ok := number(probe.Status); ok && status >= 400 {
			continue
		}
		var w wireAudience
		if err := json.Unmarshal(entry, &w); err != nil {
			return nil, fmt.Errorf("%w: results[%q]: %v", ErrDecode, key, err)
		}
		a := w.audience()
		if a.ID == "" {
			continue
		}
		out[key] = a
		if a.ID != key {
			out[a.ID] = a
		}
	}
	return out, nil
}
