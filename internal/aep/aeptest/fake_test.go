package aeptest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// client talks to a fake at the wire level.
type client struct {
	t     *testing.T
	base  string
	token string
	hc    *http.Client
}

func newFake(t *testing.T) (*Fake, *client) {
	t.Helper()
	f := &Fake{
		ClientID: "id", ClientSecret: "secret", OrgID: "ORG@AdobeOrg", PageSize: 2,
		Audiences: []Audience{{ID: "a", Name: "A"}, {ID: "b", Name: "B"}, {ID: "c", Name: "C"}, {ID: "z", Name: "Z", Lifecycle: "inactive"}},
		Flows:     []Flow{{ID: "f", Name: "F", Audiences: []string{"a", "z"}}},
	}
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	return f, &client{t: t, base: ts.URL, hc: ts.Client()}
}

func (c *client) tokenRequest(form url.Values) (int, map[string]any) {
	c.t.Helper()
	resp, err := c.hc.PostForm(c.base+TokenPath, form)
	if err != nil {
		c.t.Fatal(err)
	}
	return decode(c.t, resp)
}

func (c *client) login() {
	c.t.Helper()
	status, body := c.tokenRequest(url.Values{"grant_type": {"client_credentials"}, "client_id": {"id"}, "client_secret": {"secret"}})
	if status != 200 {
		c.t.Fatalf("token: %d %v", status, body)
	}
	c.token = body["access_token"].(string)
}

func (c *client) call(method, path, body string, headers map[string]string) (int, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("x-api-key", "id")
	req.Header.Set("x-gw-ims-org-id", "ORG@AdobeOrg")
	req.Header.Set("x-sandbox-name", "prod")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return decode(c.t, resp)
}

func decode(t *testing.T, resp *http.Response) (int, map[string]any) {
	t.Helper()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("status %d, body %q: %v", resp.StatusCode, raw, err)
	}
	return resp.StatusCode, body
}

func TestToken(t *testing.T) {
	f, c := newFake(t)
	tests := []struct {
		form   url.Values
		status int
		err    string
	}{
		{url.Values{"grant_type": {"password"}, "client_id": {"id"}, "client_secret": {"secret"}}, 400, "unsupported_grant_type"},
		{url.Values{"grant_type": {"client_credentials"}, "client_id": {"other"}, "client_secret": {"secret"}}, 400, "invalid_client"},
		{url.Values{"grant_type": {"client_credentials"}, "client_id": {"id"}, "client_secret": {"wrong"}}, 401, "invalid_client"},
		{url.Values{"grant_type": {"client_credentials"}, "client_id": {"id"}, "client_secret": {"secret"}}, 200, ""},
	}
	for _, tt := range tests {
		status, body := c.tokenRequest(tt.form)
		if status != tt.status || (tt.err != "" && body["error"] != tt.err) {
			t.Errorf("%v: %d %v, want %d %s", tt.form, status, body, tt.status, tt.err)
		}
		if status == 200 && (body["expires_in"] != 86399.0 || body["token_type"] != "bearer" || body["access_token"] == "") {
			t.Errorf("token answer %v", body)
		}
	}
	if f.TokenCalls() != len(tests) {
		t.Errorf("%d token calls counted, want %d", f.TokenCalls(), len(tests))
	}
}

func TestPlatformRefusals(t *testing.T) {
	f, c := newFake(t)
	c.login()
	tests := []struct {
		name    string
		headers map[string]string
		setup   func()
		status  int
		want    string // in the body
	}{
		{"no token", map[string]string{"Authorization": ""}, nil, 401, "401013"},
		{"unknown token", map[string]string{"Authorization": "Bearer nope"}, nil, 401, "Oauth token is not valid"},
		{"wrong api key", map[string]string{"x-api-key": "other"}, nil, 403, "x-api-key"},
		{"wrong org", map[string]string{"x-gw-ims-org-id": "X@AdobeOrg"}, nil, 403, "IMS org"},
		{"wrong sandbox", map[string]string{"x-sandbox-name": "dev"}, nil, 403, `sandbox "dev"`},
		{"no product profile", nil, func() { f.NoProductProfile = true }, 403, "403025"},
		{"denied", nil, func() { f.NoProductProfile, f.Denied = false, []string{EndpointAudiences} }, 403, "missing permission"},
		{"injected", nil, func() { f.Denied = nil; f.Fail(EndpointAudiences, Failure{Status: 429, RetryAfter: "3", Times: 1}) }, 429, "injected"},
	}
	for _, tt := range tests {
		if tt.setup != nil {
			tt.setup()
		}
		status, body := c.call("GET", AudiencesPath, "", tt.headers)
		if status != tt.status || !strings.Contains(fmt.Sprint(body), tt.want) {
			t.Errorf("%s: %d %v, want %d with %q", tt.name, status, body, tt.status, tt.want)
		}
	}
	// The injected failure was counted down: the next call is fine.
	if status, _ := c.call("GET", AudiencesPath, "", nil); status != 200 {
		t.Fatalf("after the injected failure: %d", status)
	}
	status, _ := c.call("GET", AudiencesPath+"?start=2&limit=2", "", nil)
	if status != 400 || !strings.Contains(strings.Join(f.Refused(), ";"), `start "2" is not a cursor`) {
		t.Fatalf("a computed cursor: %d, refused %q", status, f.Refused())
	}
}

func TestPagingAndLookups(t *testing.T) {
	f, c := newFake(t)
	c.login()
	var ids []string
	path := AudiencesPath + "?limit=10"
	for page := 0; path != ""; page++ {
		status, body := c.call("GET", path, "", nil)
		if status != 200 || page > 5 {
			t.Fatalf("page %d: %d %v", page, status, body)
		}
		for _, ch := range body["children"].([]any) {
			ids = append(ids, ch.(map[string]any)["id"].(string))
		}
		if body["_page"].(map[string]any)["totalCount"] != 3.0 {
			t.Fatalf("totalCount %v", body["_page"])
		}
		path = ""
		if next, ok := body["_links"].(map[string]any)["next"].(map[string]any); ok {
			path = AudiencesPath[:strings.LastIndex(AudiencesPath, "/")] + strings.TrimPrefix(next["href"].(string), "@")
		}
	}
	if strings.Join(ids, ",") != "a,b,c" { // "z" is inactive: not listed
		t.Fatalf("listed %v", ids)
	}

	status, body := c.call("POST", BulkGetPath, `{"ids":[{"id":"z"},{"id":"gone"}]}`, nil)
	results := body["results"].(map[string]any)
	if status != 207 || len(results) != 1 || results["z"].(map[string]any)["lifecycleState"] != "inactive" {
		t.Fatalf("bulk-get: %d %v", status, body)
	}
	many := strings.Repeat(`{"id":"a"},`, MaxBulkIDs)
	if status, _ := c.call("POST", BulkGetPath, `{"ids":[`+many+`{"id":"a"}]}`, nil); status != 400 {
		t.Fatalf("bulk-get of too many IDs: %d", status)
	}

	status, body = c.call("GET", FlowsPath+"/f", "", nil)
	items := body["items"].([]any)
	selectors := fmt.Sprint(items[0].(map[string]any)["transformations"])
	if status != 200 || len(items) != 1 || !strings.Contains(selectors, "PLATFORM_SEGMENT") || !strings.Contains(selectors, "id:z") {
		t.Fatalf("flow lookup: %d %v", status, body)
	}
	if status, _ := c.call("GET", FlowsPath+"/nope", "", nil); status != 404 {
		t.Fatalf("unknown flow: %d", status)
	}
	if status, _ := c.call("GET", FlowsPath+"?property=name==x", "", nil); status != 400 {
		t.Fatalf("an unsupported filter: %d", status)
	}
	if f.Calls(EndpointFlow) != 2 || f.Calls(EndpointBulkGet) != 2 {
		t.Fatalf("calls: flow %d, bulk-get %d", f.Calls(EndpointFlow), f.Calls(EndpointBulkGet))
	}
}

func TestTokenExpiry(t *testing.T) {
	f, c := newFake(t)
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f.ExpiresIn = 60
	c.login()
	if status, _ := c.call("GET", AudiencesPath, "", nil); status != 200 {
		t.Fatalf("fresh token: %d", status)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if status, _ := c.call("GET", AudiencesPath, "", nil); status != 401 {
		t.Fatalf("expired token: %d", status)
	}
	c.login()
	f.ExpireTokens()
	if status, _ := c.call("GET", AudiencesPath, "", nil); status != 401 {
		t.Fatalf("after ExpireTokens: %d", status)
	}
}

func TestDataFromJSON(t *testing.T) {
	good := `{"audiences":[{"id":"a","name":"A","lifecycleState":"draft","updated":"2026-11-20T10:00:00Z"}],"flows":[{"id":"f","name":"F","audiences":["a"]}]}`
	d, err := DataFromJSON(strings.NewReader(good))
	if err != nil || len(d.Audiences) != 1 || d.Audiences[0].Lifecycle != "draft" || d.Audiences[0].Updated.IsZero() || len(d.Flows) != 1 {
		t.Fatalf("%+v, %v", d, err)
	}
	for in, want := range map[string]string{
		`{"audiences":[{"id":"a"},{"id":"a"}]}`:                       "duplicate id",
		`{"audiences":[{"name":"x"}]}`:                                "missing or duplicate id",
		`{"flows":[{"id":"f","audiences":["nope"]}]}`:                 `unknown audience "nope"`,
		`{"flows":[{"id":"f"},{"id":"f"}]}`:                           "flows[1]",
		`{"audiences":[{"id":"a","colour":"red"}]}`:                   "unknown field",
		`{"audiences":[{"id":"a","updated":"yesterday"}],"flows":[]}`: "cannot parse",
	} {
		if _, err := DataFromJSON(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DataFromJSON(%s) = %v, want %q", in, err, want)
		}
	}
}
