package edge

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRequestBody(t *testing.T) {
	c, err := NewClient(Options{DatastreamID: "ds"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 4, 5, 6, 7, 89e6, time.FixedZone("CET", 3600))
	body, err := c.requestBody(Identity{
		ECID:         sampleECID,
		Domain:       "shop.example",
		StateEntries: []StateEntry{{Key: "kndctr_X_AdobeOrg_identity", Value: sampleCookie}},
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event":{"xdm":{"eventType":"decisioning.propositionFetch","timestamp":"2026-03-04T04:06:07.089Z",` +
		`"identityMap":{"ECID":[{"id":"` + sampleECID + `","authenticatedState":"ambiguous","primary":true}]}}},` +
		`"meta":{"state":{"domain":"shop.example","cookiesEnabled":true,` +
		`"entries":[{"key":"kndctr_X_AdobeOrg_identity","value":"` + sampleCookie + `"}]}}}`
	if string(body) != want {
		t.Fatalf("body\n%s\nwant\n%s", body, want)
	}

	huge := Identity{ECID: sampleECID, StateEntries: []StateEntry{{Key: "k", Value: strings.Repeat("v", MaxRequestBody)}}}
	if _, err := c.requestBody(huge, now); !errors.Is(err, ErrRequestTooLarge) {
		t.Fatalf("oversized request: err = %v, want ErrRequestTooLarge", err)
	}
}

func TestDecodeResult(t *testing.T) {
	full := `{
	  "requestId": "r-1", "unknownTopLevel": {"x": 1},
	  "handle": [
	    {"type": "activation:pull", "eventIndex": 0, "payload": [
	      {"type": "profileLookup", "destinationId": "d1", "alias": "web", "attributes": {},
	       "segments": [{"id": "seg-b", "namespace": "ups"}, {"id": "seg-a", "namespace": {"code": "ups"}}, {"id": "seg-b"}, {"id": ""}]},
	      {"type": "profileLookup", "destinationId": "d2", "alias": "app", "segments": [{"id": "seg-c"}]}
	    ]},
	    {"type": "state:store", "payload": [
	      {"key": "kndctr_X_AdobeOrg_cluster", "value": "va6", "maxAge": 1800, "attrs": {"SameSite": "None", "Secure": true, "Priority": 1, "Nested": {"a": 1}}},
	      {"key": "", "value": "dropped"}
	    ]},
	    {"type": "locationHint:result", "payload": [
	      {"scope": "Target", "hint": "35", "ttlSeconds": 1800},
	      {"scope": "EdgeNetwork", "hint": "va6", "ttlSeconds": 1800}
	    ]},
	    {"type": "personalization:decisions", "payload": [{"anything": ["goes"]}]},
	    {"type": "activation:pull", "payload": null},
	    {"type": "identity:result", "payload": "not even an array"}
	  ]
	}`
	tests := []struct {
		name    string
		alias   string
		body    string
		want    Result
		wantErr bool
	}{
		{name: "all destinations", body: full, want: Result{
			RequestID: "r-1", Segments: []string{"seg-a", "seg-b", "seg-c"}, LocationHint: "va6",
			Store: []StoreEntry{{Key: "kndctr_X_AdobeOrg_cluster", Value: "va6", MaxAge: 1800,
				Attrs: map[string]string{"SameSite": "None", "Secure": "true", "Priority": "1"}}},
		}},
		{name: "one alias", alias: "app", body: full, want: Result{RequestID: "r-1", Segments: []string{"seg-c"}}},
		{name: "unknown alias", alias: "none", body: full, want: Result{RequestID: "r-1"}},
		{name: "profile not on the edge", body: `{"requestId":"r","handle":[{"type":"activation:pull","payload":[]}]}`, want: Result{RequestID: "r"}},
		{name: "no handles", body: `{"requestId":"r","handle":[]}`, want: Result{RequestID: "r"}},
		{name: "207 problems", body: `{"handle":[],"warnings":[{"type":"w","code":"EXEG-0204-200","status":"200","title":"slow"}],` +
			`"errors":[{"type":"e","status":503,"title":"down","detail":"target"}]}`, want: Result{
			Warnings: []Problem{{Type: "w", Code: "EXEG-0204-200", Status: 200, Title: "slow"}},
			Errors:   []Problem{{Type: "e", Status: 503, Title: "down", Detail: "target"}},
		}},
		{name: "hint of a bad shape", body: `{"handle":[{"type":"locationHint:result","payload":[{"scope":"EdgeNetwork","hint":"../x"}]}]}`, want: Result{}},
		{name: "null", body: `null`, wantErr: true},
		{name: "array", body: `[]`, wantErr: true},
		{name: "empty", body: ``, wantErr: true},
		{name: "truncated", body: `{"handle":[`, wantErr: true},
		{name: "handle not an array", body: `{"handle":"x"}`, wantErr: true},
		{name: "payload not an array", body: `{"handle":[{"type":"activation:pull","payload":{}}]}`, wantErr: true},
		{name: "segment id a number", body: `{"handle":[{"type":"activation:pull","payload":[{"segments":[{"id":7}]}]}]}`, wantErr: true},
		{name: "store payload wrong", body: `{"handle":[{"type":"state:store","payload":[1]}]}`, wantErr: true},
		{name: "hint payload wrong", body: `{"handle":[{"type":"locationHint:result","payload":"or2"}]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(Options{DatastreamID: "ds", DestinationAlias: tt.alias})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.decodeResult([]byte(tt.body))
			if tt.wantErr {
				if !errors.Is(err, ErrDecode) {
					t.Fatalf("err = %v, want ErrDecode", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.alias != "" {
				got.Store, got.LocationHint = nil, "" // compared in the first case
			}
			if !equalResult(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func equalResult(a, b Result) bool {
	return a.RequestID == b.RequestID && slices.Equal(a.Segments, b.Segments) && a.LocationHint == b.LocationHint &&
		slices.EqualFunc(a.Store, b.Store, func(x, y StoreEntry) bool {
			return x.Key == y.Key && x.Value == y.Value && x.MaxAge == y.MaxAge && maps.Equal(x.Attrs, y.Attrs)
		}) && slices.Equal(a.Warnings, b.Warnings) && slices.Equal(a.Errors, b.Errors)
}
