package membership

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

const (
	vip   = "6f1d2c3a-0b7e-4a51-9f0e-2d9c8b7a1e01"
	bags  = "0a7c44e1-3b2f-4c8d-8e15-71c2d9a0b302"
	other = "c3d9e8f7-1a2b-4c5d-9e8f-0a1b2c3d4e03"
)

func request(header string, cookies ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
	if header != "" {
		r.Header.Set(HeaderName, header)
	}
	if len(cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(cookies, "; "))
	}
	return r
}

func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		req     *http.Request
		want    []string
		origin  Origin
		invalid int
		trunc   bool
	}{
		{"nothing", Config{}, request(""), nil, OriginNone, 0, false},
		{"raw cookie", Config{}, request("", CookieName+"="+vip+","+bags), []string{bags, vip}, OriginCookie, 0, false},
		{"encoded cookie", Config{}, request("", CookieName+"="+vip+"%2C"+bags), []string{bags, vip}, OriginCookie, 0, false},
		{"lower-case escape", Config{}, request(vip + "%2c" + bags), []string{bags, vip}, OriginHeader, 0, false},
		{"encoded header", Config{}, request(vip + "%2C" + bags), []string{bags, vip}, OriginHeader, 0, false},
		{"empty cookie means member of nothing", Config{}, request("", CookieName+"="), nil, OriginCookie, 0, false},
		{"empty header", Config{}, request(" "), nil, OriginHeader, 0, false},
		{"spaces are trimmed", Config{}, request(" " + vip + " ,  " + bags + " "), []string{bags, vip}, OriginHeader, 0, false},
		{"encoded spaces are trimmed", Config{}, request(vip + "%2C%20" + bags), []string{bags, vip}, OriginHeader, 0, false},
		{"empties dropped", Config{}, request(",," + vip + ",,"), []string{vip}, OriginHeader, 0, false},
		{"duplicates removed", Config{}, request(vip + "," + bags + "," + vip), []string{bags, vip}, OriginHeader, 0, false},
		{"sorted", Config{}, request("b,c,a"), []string{"a", "b", "c"}, OriginHeader, 0, false},
		{"invalid ids dropped and counted", Config{}, request("ok,-bad,<script>,a b,é," + strings.Repeat("x", 129)), []string{"ok"}, OriginHeader, 5, false},
		{"id chars", Config{}, request("A9._:-z"), []string{"A9._:-z"}, OriginHeader, 0, false},
		{"128 chars is the longest id", Config{}, request(strings.Repeat("x", 128)), []string{strings.Repeat("x", 128)}, OriginHeader, 0, false},
		{"malformed escape is invalid", Config{}, request("a%zz,b"), []string{"b"}, OriginHeader, 1, false},
		{"quoted cookie", Config{}, request("", CookieName+`="`+vip+`"`), []string{vip}, OriginCookie, 0, false},
		{"header wins by default", Config{}, request(vip, CookieName+"="+bags), []string{vip}, OriginHeader, 0, false},
		{"header mode ignores cookie", Config{Source: SourceHeader}, request("", CookieName+"="+bags), nil, OriginNone, 0, false},
		{"header mode", Config{Source: SourceHeader}, request(vip, CookieName+"="+bags), []string{vip}, OriginHeader, 0, false},
		{"cookie mode ignores header", Config{Source: SourceCookie}, request(vip), nil, OriginNone, 0, false},
		{"cookie mode", Config{Source: SourceCookie}, request(vip, CookieName+"="+bags), []string{bags}, OriginCookie, 0, false},
		{"union", Config{Source: SourceUnion}, request(vip, CookieName+"="+bags+","+vip), []string{bags, vip}, OriginHeader, 0, false},
		{"union cookie only", Config{Source: SourceUnion}, request("", CookieName+"="+bags), []string{bags}, OriginCookie, 0, false},
		{"cookie among others", Config{}, request("", "a=1", CookieName+"="+other, "b=2"), []string{other}, OriginCookie, 0, false},
		{"dnt honored", Config{HonorDNT: true}, request(vip, "mg_dnt=1", CookieName+"="+bags), nil, OriginDNT, 0, false},
		{"dnt without value", Config{HonorDNT: true}, request(vip, "mg_dnt"), nil, OriginDNT, 0, false},
		{"dnt ignored when off", Config{}, request(vip, "mg_dnt=1"), []string{vip}, OriginHeader, 0, false},
		{"similar cookie name is not dnt", Config{HonorDNT: true}, request(vip, "mg_dnt_x=1"), []string{vip}, OriginHeader, 0, false},
		{"too many ids", Config{MaxSegments: 3}, request("e,d,c,b,a"), []string{"c", "d", "e"}, OriginHeader, 0, true},
		{"duplicates do not count against the cap", Config{MaxSegments: 2}, request("a,a,a,b,b"), []string{"a", "b"}, OriginHeader, 0, false},
		{"too long cuts at a separator", Config{MaxBytes: 8}, request("aaa,bbb,ccc"), []string{"aaa", "bbb"}, OriginHeader, 0, true},
		{"too long single id", Config{MaxBytes: 4}, request("aaaaaaaa"), nil, OriginHeader, 0, true},
		{"too long encoded", Config{MaxBytes: 10}, request("aaa%2Cbbb%2Cccc"), []string{"aaa"}, OriginHeader, 0, true},
		{"allow-list", Config{Allow: func(id string) bool { return id == vip }}, request(vip + "," + bags), []string{vip}, OriginHeader, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Read(tt.req, tt.cfg)
			if !slices.Equal(got.Segments, tt.want) {
				t.Errorf("segments = %q, want %q", got.Segments, tt.want)
			}
			if got.Origin != tt.origin {
				t.Errorf("origin = %q, want %q", got.Origin, tt.origin)
			}
			if got.Invalid != tt.invalid {
				t.Errorf("invalid = %d, want %d", got.Invalid, tt.invalid)
			}
			if got.Truncated != tt.trunc {
				t.Errorf("truncated = %v, want %v", got.Truncated, tt.trunc)
			}
		})
	}
}

func TestDefaultCaps(t *testing.T) {
	ids := make([]string, 300)
	for i := range ids {
		ids[i] = fmt.Sprintf("seg-%03d", i)
	}
	got := Normalize(Config{}, strings.Join(ids, ","))
	if len(got.Segments) != DefaultMaxSegments || !got.Truncated {
		t.Fatalf("got %d segments, truncated %v; want %d, true", len(got.Segments), got.Truncated, DefaultMaxSegments)
	}
	if got.Segments[len(got.Segments)-1] != "seg-255" {
		t.Errorf("the first %d ids must be kept, last kept is %q", DefaultMaxSegments, got.Segments[len(got.Segments)-1])
	}

	long := strings.Repeat("abcdefghi,", 1000) // 10,000 bytes
	got = Normalize(Config{}, long)
	if !got.Truncated || len(got.Segments) != 1 {
		t.Errorf("over %d bytes: truncated %v, %d segments", DefaultMaxBytes, got.Truncated, len(got.Segments))
	}
}

func TestMembershipHeader(t *testing.T) {
	m := Normalize(Config{}, "b,a")
	if got := m.Header(); got != "a,b" {
		t.Errorf("Header() = %q", got)
	}
	if got := (Membership{}).Header(); got != "" {
		t.Errorf("empty Header() = %q", got)
	}
}

func TestStripInbound(t *testing.T) {
	tests := []struct {
		cookies []string
		want    []string
	}{
		{nil, nil},
		{[]string{CookieName + "=a,b"}, nil},
		{[]string{"PHPSESSID=x; " + CookieName + "=a; mage-cache-sessid=true"}, []string{"PHPSESSID=x; mage-cache-sessid=true"}},
		{[]string{"a=1", CookieName + "=x"}, []string{"a=1"}},
		{[]string{"not-" + CookieName + "=1"}, []string{"not-" + CookieName + "=1"}},
	}
	for _, tt := range tests {
		h := http.Header{}
		h.Set(HeaderName, "a")
		for _, c := range tt.cookies {
			h.Add("Cookie", c)
		}
		StripInbound(h)
		if h.Get(HeaderName) != "" {
			t.Errorf("header %s survived", HeaderName)
		}
		if got := h.Values("Cookie"); !slices.Equal(got, tt.want) {
			t.Errorf("StripInbound(%q) cookies = %q, want %q", tt.cookies, got, tt.want)
		}
	}
}

func TestDeleteHeader(t *testing.T) {
	h := http.Header{}
	for _, k := range []string{"X-Audience-Segments", "x-audience-segments", "X_AUDIENCE_SEGMENTS", "x-Audience_segments"} {
		h[k] = []string{"spoofed"}
	}
	h.Set("X-Audience-Segments-Other", "kept")
	h.Set("Accept", "kept")
	DeleteHeader(h, "X-Audience-Segments")
	if len(h) != 2 || h.Get("Accept") != "kept" || h.Get("X-Audience-Segments-Other") != "kept" {
		t.Errorf("after DeleteHeader: %v", h)
	}
}

func TestSourceValid(t *testing.T) {
	for _, s := range []Source{SourceHeaderThenCookie, SourceHeader, SourceCookie, SourceUnion} {
		if !s.Valid() {
			t.Errorf("%q should be valid", s)
		}
	}
	if Source("both").Valid() {
		t.Error(`"both" should be invalid`)
	}
}

// FuzzPercentDecode checks the decoder against url.PathUnescape, the reference it replaced:
// the same result, or the raw value where PathUnescape fails.
func FuzzPercentDecode(f *testing.F) {
	for _, s := range []string{"", "a%2Cb", "%", "%2", "%zz", "a+b", "%2c%2C", "abc%", "%E2%82%AC", "%%41"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		want, err := url.PathUnescape(raw)
		if err != nil {
			want = raw
		}
		if got := percentDecode(raw); got != want {
			t.Fatalf("percentDecode(%q) = %q, url.PathUnescape gives %q", raw, got, want)
		}
	})
}

// TestNormalizeNoIDsIsNil: input that keeps no ID gives nil Segments, as before the ID list
// was sized up front (callers and JSON tell nil from empty).
func TestNormalizeNoIDsIsNil(t *testing.T) {
	for _, raw := range []string{",", " , ", "bad!", "%zz", "%2C", "a b,c d"} {
		if m := Normalize(Config{}, raw); m.Segments != nil {
			t.Errorf("Normalize(%q).Segments = %#v, want nil", raw, m.Segments)
		}
	}
	if m := Normalize(Config{}, "b,a,b"); !slices.Equal(m.Segments, []string{"a", "b"}) {
		t.Errorf("Normalize(\"b,a,b\").Segments = %q", m.Segments)
	}
}
