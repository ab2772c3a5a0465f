package edgetest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestProfilesFromJSON(t *testing.T) {
	ecid := strings.Repeat("1", 38)
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"profiles", `{"` + ecid + `": ["a", "b"]}`, true},
		{"empty", `{}`, true},
		{"not an ECID", `{"123": ["a"]}`, false},
		{"empty segment", `{"` + ecid + `": [""]}`, false},
		{"not JSON", `{`, false},
		{"wrong shape", `{"` + ecid + `": "a"}`, false},
	}
	for _, tt := range tests {
		_, err := ProfilesFromJSON(strings.NewReader(tt.in))
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestFakeRefusesMalformedRequests(t *testing.T) {
	valid := `{"event":{"xdm":{"eventType":"e","timestamp":"2026-01-01T00:00:00.000Z","identityMap":{"ECID":[{"id":"` +
		strings.Repeat("1", 38) + `","authenticatedState":"ambiguous","primary":true}]}}},"meta":{"state":{"cookiesEnabled":true}}}`
	tests := []struct {
		name, method, path, body string
		status                   int
		failure                  string // "" means not counted as a malformed interact call
	}{
		{"valid", http.MethodPost, "/ee/v2/interact?datastreamId=ds", valid, 200, ""},
		{"unknown path", http.MethodPost, "/ee/v1/interact?datastreamId=ds", valid, 404, ""},
		{"GET", http.MethodGet, "/ee/v2/interact?datastreamId=ds", "", 405, "method"},
		{"no datastream", http.MethodPost, "/ee/v2/interact", valid, 400, "datastreamId"},
		{"unknown field", http.MethodPost, "/ee/v2/interact?datastreamId=ds", strings.Replace(valid, `"meta"`, `"events":[],"meta"`, 1), 400, "unknown field"},
		{"bad timestamp", http.MethodPost, "/ee/v2/interact?datastreamId=ds", strings.Replace(valid, "2026-01-01T", "yesterday ", 1), 400, "timestamp"},
		{"not primary", http.MethodPost, "/ee/v2/interact?datastreamId=ds", strings.Replace(valid, `"primary":true`, `"primary":false`, 1), 400, "primary"},
		{"cookies disabled", http.MethodPost, "/ee/v2/interact?datastreamId=ds", strings.Replace(valid, `"cookiesEnabled":true`, `"cookiesEnabled":false`, 1), 400, "cookiesEnabled"},
		{"over 64 KB", http.MethodPost, "/ee/v2/interact?datastreamId=ds", valid + strings.Repeat(" ", 64<<10), 413, "body over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &Fake{}
			var told string
			fake.OnFailure = func(_ *http.Request, reason string) { told = reason }
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			fake.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			failures := fake.Failures()
			if tt.failure == "" {
				if len(failures) != 0 {
					t.Fatalf("failures %q", failures)
				}
				return
			}
			if len(failures) != 1 || !strings.Contains(failures[0], tt.failure) || told != failures[0] {
				t.Fatalf("failures %q (told %q), want one about %q", failures, told, tt.failure)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q", ct)
			}
		})
	}
}

func TestFakeBehaviorCountsDown(t *testing.T) {
	fake := &Fake{}
	fake.SetBehavior("", Behavior{Status: 503, Times: 2})
	for i, want := range []int{503, 503, 0} {
		if got := fake.behavior("x").Status; got != want {
			t.Fatalf("request %d: status %d, want %d", i, got, want)
		}
	}
	fake.SetBehavior("x", Behavior{Status: 400})
	fake.SetBehavior("", Behavior{Status: 500})
	if got := fake.behavior("x").Status; got != 400 {
		t.Fatalf("per-ECID behavior: %d", got)
	}
	if got := fake.behavior("y").Status; got != 500 {
		t.Fatalf("global behavior: %d", got)
	}
	fake.ClearBehaviors()
	if got := fake.behavior("x").Status; got != 0 {
		t.Fatalf("after ClearBehaviors: %d", got)
	}
}

func TestFakeIMS(t *testing.T) {
	fake := &Fake{Auth: &Auth{ClientID: "id", ClientSecret: "secret", ExpiresIn: 60}}
	tests := []struct {
		form   url.Values
		status int
	}{
		{url.Values{"grant_type": {"client_credentials"}, "client_id": {"id"}, "client_secret": {"secret"}}, 200},
		{url.Values{"grant_type": {"client_credentials"}, "client_id": {"id"}, "client_secret": {"nope"}}, 401},
		{url.Values{"grant_type": {"password"}, "client_id": {"id"}, "client_secret": {"secret"}}, 401},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodPost, IMSPath, strings.NewReader(tt.form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		fake.ServeHTTP(w, r)
		if w.Code != tt.status {
			t.Errorf("%v: status %d, want %d", tt.form, w.Code, tt.status)
		}
		if tt.status == 200 && !strings.Contains(w.Body.String(), `"expires_in":60`) {
			t.Errorf("token answer %s", w.Body)
		}
	}
	if fake.TokenCalls() != 3 {
		t.Errorf("%d token calls", fake.TokenCalls())
	}
}
