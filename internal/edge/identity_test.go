package edge

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// Identity cookie values from Adobe's documentation and the ECIDs they hold.
const (
	sampleCookie  = "CiY0NzE0NzkwMTUyMzYzMzI4NDAxMjc3NDcwNzA2NTcxMjI3OTI1NVIRCJ_S-uCRMRABGAEqBElSTDHwAZ_S-uCRMQ=="
	sampleECID    = "47147901523633284012774707065712279255"
	sampleCookie2 = "CiY1NDc1ODIxNzIzODk5MDY5MzQzMTIzNjQ1NTczNzExNjE4OTA1MFINCLGOvszNLhABGAEgBKABsY6-zM0uqAGHz-z2y82cul3wAbGOvszNLg=="
	sampleECID2   = "54758217238990693431236455737116189050"
	sampleOrg     = "53A16ACB5CC1D3760A495C99@AdobeOrg"
)

// pb concatenates protobuf fragments; b64 encodes a message as the Web SDK does.
func pb(parts ...[]byte) []byte { return slices.Concat(parts...) }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// str is a length-delimited field: tag, one-byte length, bytes.
func str(field byte, s string) []byte {
	return append([]byte{field<<3 | 2, byte(len(s))}, s...)
}

func TestCookieNames(t *testing.T) {
	tests := []struct{ org, identity, cluster string }{
		{sampleOrg, "kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_identity", "kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_cluster"},
		{"53A16ACB5CC1D3760A495C99", "kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_identity", "kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_cluster"},
		{"A@B@AdobeOrg", "kndctr_A_B_AdobeOrg_identity", "kndctr_A_B_AdobeOrg_cluster"},
	}
	for _, tt := range tests {
		if got := IdentityCookieName(tt.org); got != tt.identity {
			t.Errorf("IdentityCookieName(%q) = %q, want %q", tt.org, got, tt.identity)
		}
		if got := ClusterCookieName(tt.org); got != tt.cluster {
			t.Errorf("ClusterCookieName(%q) = %q, want %q", tt.org, got, tt.cluster)
		}
	}
}

func TestDecodeECID(t *testing.T) {
	ecid := sampleECID
	std := strings.NewReplacer("-", "+", "_", "/").Replace(sampleCookie)
	long := strings.Repeat("9", 2000)
	tests := []struct {
		name, value, want string
		wantErr           string // substring of the error; "" means success
	}{
		{name: "adobe sample", value: sampleCookie, want: sampleECID},
		{name: "adobe sample 2", value: sampleCookie2, want: sampleECID2},
		{name: "unpadded", value: strings.TrimRight(sampleCookie, "="), want: sampleECID},
		{name: "query-escaped", value: url.QueryEscape(sampleCookie), want: sampleECID},
		{name: "fully percent-encoded", value: percentAll(sampleCookie), want: sampleECID},
		{name: "standard alphabet", value: std, want: sampleECID},
		{name: "standard alphabet escaped", value: url.QueryEscape(std), want: sampleECID},
		{name: "field 1 after other fields", value: b64(pb([]byte{0x10, 0x96, 0x01}, []byte{0x19, 1, 2, 3, 4, 5, 6, 7, 8},
			[]byte{0x25, 1, 2, 3, 4}, str(4, "x"), str(1, ecid))), want: ecid},
		{name: "only field 1", value: b64(str(1, ecid)), want: ecid},

		{name: "empty", value: "", wantErr: "empty"},
		{name: "too long", value: strings.Repeat("A", MaxCookieLen+1), wantErr: "exceeds"},
		{name: "bad base64", value: "!!!!", wantErr: "base64"},
		{name: "bad padding", value: sampleCookie + "=", wantErr: "base64"},
		{name: "mixed alphabets", value: "ab+-cd", wantErr: "mixes"},
		{name: "bad percent escape", value: "%zz" + sampleCookie, wantErr: "percent"},
		{name: "truncated string", value: b64(pb(str(1, ecid))[:20]), wantErr: "truncated"},
		{name: "truncated sample", value: b64(mustDecode(t, sampleCookie)[:30]), wantErr: "truncated"},
		{name: "truncated varint", value: b64([]byte{0x10, 0x80}), wantErr: "truncated"},
		{name: "truncated tag", value: b64(pb(str(1, ecid), []byte{0x80})), wantErr: "truncated"},
		{name: "truncated fixed64", value: b64(pb(str(1, ecid), []byte{0x19, 1, 2})), wantErr: "truncated"},
		{name: "truncated fixed32", value: b64(pb(str(1, ecid), []byte{0x25, 1})), wantErr: "truncated"},
		{name: "length beyond buffer", value: b64([]byte{0x0a, 0x7f, '1'}), wantErr: "truncated"},
		{name: "varint overflow", value: b64(pb([]byte{0x10}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, str(1, ecid))), wantErr: "overflows"},
		{name: "varint 11 bytes", value: b64(pb([]byte{0x10}, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00})), wantErr: "overflows"},
		{name: "huge length", value: b64(pb([]byte{0x22, 0xd0, 0x0f}, []byte(long))), wantErr: "exceeds"},
		{name: "huge length varint", value: b64([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}), wantErr: "exceeds"},
		{name: "field 1 as varint", value: b64([]byte{0x08, 0x01}), wantErr: "wire type 0"},
		{name: "field 1 as fixed32", value: b64([]byte{0x0d, 1, 2, 3, 4}), wantErr: "wire type 5"},
		{name: "start group", value: b64(pb([]byte{0x0b}, str(1, ecid))), wantErr: "wire type 3"},
		{name: "end group", value: b64(pb(str(1, ecid), []byte{0x14})), wantErr: "wire type 4"},
		{name: "wire type 6", value: b64([]byte{0x0e}), wantErr: "wire type 6"},
		{name: "field number 0", value: b64(pb([]byte{0x02, 0x00}, str(1, ecid))), wantErr: "field number 0"},
		{name: "field 1 repeated", value: b64(pb(str(1, ecid), str(1, ecid))), wantErr: "repeated"},
		{name: "no field 1", value: b64(str(2, ecid)), wantErr: "no ECID"},
		{name: "short ECID", value: b64(str(1, "123")), wantErr: "38 digits"},
		{name: "39 digits", value: b64(str(1, ecid+"1")), wantErr: "38 digits"},
		{name: "letters", value: b64(str(1, "a"+ecid[1:])), wantErr: "38 digits"},
		{name: "unicode digits", value: b64(str(1, "٣"+ecid[2:])), wantErr: "38 digits"},
		{name: "empty message", value: "AA", wantErr: "field number 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeECID(tt.value)
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("DecodeECID = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("DecodeECID = %q, want an error containing %q", got, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalidIdentity) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q: want ErrInvalidIdentity containing %q", err, tt.wantErr)
			}
		})
	}
}

// percentAll percent-encodes every byte of s.
func percentAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteString("%")
		b.WriteString(strings.ToUpper(string("0123456789abcdef"[s[i]>>4]) + string("0123456789abcdef"[s[i]&15])))
	}
	return b.String()
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.URLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadVarint(t *testing.T) {
	tests := []struct {
		in   []byte
		want uint64
		n    int
		ok   bool
	}{
		{[]byte{0x00}, 0, 1, true},
		{[]byte{0x96, 0x01, 0xff}, 150, 2, true},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 1<<64 - 1, 10, true},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, 0, 0, false},
		{[]byte{0x80}, 0, 0, false},
		{nil, 0, 0, false},
	}
	for _, tt := range tests {
		got, n, err := readVarint(tt.in)
		if (err == nil) != tt.ok || got != tt.want || n != tt.n {
			t.Errorf("readVarint(%x) = %d, %d, %v; want %d, %d, ok=%v", tt.in, got, n, err, tt.want, tt.n, tt.ok)
		}
	}
}

func TestValidECID(t *testing.T) {
	for s, want := range map[string]bool{
		sampleECID: true, sampleECID2: true, "": false, sampleECID[:37]: false,
		sampleECID + "0": false, " " + sampleECID[1:]: false, "x" + sampleECID[1:]: false,
	} {
		if got := ValidECID(s); got != want {
			t.Errorf("ValidECID(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestValidCluster(t *testing.T) {
	for _, c := range DefaultClusters {
		if !ValidCluster(c) || !validClusterName(c) {
			t.Errorf("default cluster %q rejected", c)
		}
	}
	for _, c := range []string{"", "or", "OR2", "x1", "abcde1", "or123", "or2/..", "va6 ", "ab1c", "nld9"} {
		if ValidCluster(c) {
			t.Errorf("ValidCluster(%q) = true", c)
		}
	}
	shapes := map[string]bool{
		"nld2": true, "ab1": true, "abcd12": true, "or": false, "a1": false, "abcde1": false,
		"ab123": false, "AB1": false, "ab-1": false, "1ab": false, "": false, "ab1c": false,
	}
	for s, want := range shapes {
		if got := validClusterName(s); got != want {
			t.Errorf("validClusterName(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestIdentityFromRequest(t *testing.T) {
	identity := IdentityCookieName(sampleOrg)
	cluster := ClusterCookieName(sampleOrg)
	request := func(cookies ...string) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, "http://shop.example/", nil)
		if len(cookies) > 0 {
			r.Header.Set("Cookie", strings.Join(cookies, "; "))
		}
		return r
	}
	tests := []struct {
		name    string
		r       *http.Request
		want    Identity
		wantErr error
	}{
		{
			name: "identity, cluster and state",
			r: request("session=abc", identity+"="+sampleCookie, cluster+"=or2",
				"kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_consent=general%3Din", "kndctr_OTHER_AdobeOrg_identity=x"),
			want: Identity{ECID: sampleECID, Cluster: "or2", StateEntries: []StateEntry{
				{identity, sampleCookie}, {cluster, "or2"},
				{"kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_consent", "general%3Din"},
			}},
		},
		{
			name: "first of duplicate cookies wins",
			r:    request(identity+"="+sampleCookie, identity+"="+sampleCookie2),
			want: Identity{ECID: sampleECID, StateEntries: []StateEntry{{identity, sampleCookie}}},
		},
		{name: "no cookies", r: request(), wantErr: ErrNoIdentity},
		{name: "only cluster", r: request(cluster + "=or2"), wantErr: ErrNoIdentity},
		{name: "other org", r: request("kndctr_OTHER_AdobeOrg_identity=" + sampleCookie), wantErr: ErrNoIdentity},
		{name: "bad identity", r: request(identity + "=AAAA"), wantErr: ErrInvalidIdentity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := IdentityFromRequest(tt.r, sampleOrg)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if got.ECID != tt.want.ECID || got.Cluster != tt.want.Cluster || !slices.Equal(got.StateEntries, tt.want.StateEntries) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
