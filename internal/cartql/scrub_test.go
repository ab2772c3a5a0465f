package cartql

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestScrub(t *testing.T) {
	codes := []string{"SECRET", "Gate-VIP"}
	labels := map[string]string{"SECRET": "Members save 10%"}
	tests := []struct {
		name, body, want string
		codes            []string
		labels           map[string]string
	}{
		{
			name: "no code",
			body: `{"data":{"cart":{"applied_coupons":[{"code":"WELCOME10"}],"prices":{"discounts":[{"label":"Summer sale"}]}}}}`,
		},
		{
			name: "the only applied coupon",
			body: `{"data":{"cart":{"applied_coupons":[{"__typename":"AppliedCoupon","code":"SECRET"}],"total_quantity":1}}}`,
			want: `{"data":{"cart":{"applied_coupons":[],"total_quantity":1}}}`,
		},
		{
			name: "beside the shopper's coupon, any case, either order",
			body: `{"a":[{"code":"secret"},{"code":"WELCOME10"}],"b":[ {"code":"WELCOME10"} , {"code":"gate-vip"} ]}`,
			want: `{"a":[{"code":"WELCOME10"}],"b":[ {"code":"WELCOME10"} ]}`,
		},
		{
			name: "the deprecated applied_coupon",
			body: `{"data":{"cart":{"applied_coupon":{"code":"Secret"},"id":"x"}}}`,
			want: `{"data":{"cart":{"applied_coupon":null,"id":"x"}}}`,
		},
		{
			name: "discount with its coupon and the code as label",
			body: `{"discounts":[{"label":"SECRET","coupon":{"code":"SECRET"},"amount":{"value":5}},{"label":"GATE-VIP","amount":{"value":1}}]}`,
			want: `{"discounts":[{"label":"Members save 10%","coupon":null,"amount":{"value":5}},{"label":"Discount","amount":{"value":1}}]}`,
		},
		{
			name: "the deprecated CartDiscount labels",
			body: `{"discount":{"label":["WELCOME10","gate-vip"],"amount":{"value":-3}}}`,
			want: `{"discount":{"label":["WELCOME10","Discount"],"amount":{"value":-3}}}`,
		},
		{
			name: "an order",
			body: `{"data":{"customer":{"orders":{"items":[{"number":"000000001","applied_coupons":[{"code":"SECRET"}],"total":{"discounts":[{"label":"SECRET","amount":{"value":3}}]}}]}}}}`,
			want: `{"data":{"customer":{"orders":{"items":[{"number":"000000001","applied_coupons":[],"total":{"discounts":[{"label":"Members save 10%","amount":{"value":3}}]}}]}}}}`,
		},
		{
			name: "usage limit error",
			body: `{"errors":[{"message":"SECRET coupon exceeds usage limit.","extensions":{"category":"graphql-input"},"path":["placeOrder"]}],"data":{"placeOrder":null}}`,
			want: `{"errors":[{"message":"Coupon exceeds usage limit.","extensions":{"category":"graphql-input"},"path":["placeOrder"]}],"data":{"placeOrder":null}}`,
		},
		{
			name: "quoted code in an error",
			body: `{"errors":[{"message":"The coupon code \"secret\" is not valid."},{"message":"Code 'Gate-Vip', “SECRET” and SECRET."}]}`,
			want: `{"errors":[{"message":"The coupon code is not valid."},{"message":"Code, and."}]}`,
		},
		{
			name: "keys are never changed",
			body: `{"SECRET":"xsecretx","secret":{"code":"x"}}`,
			want: `{"SECRET":"xx","secret":{"code":"x"}}`,
		},
		{
			name: "escaped code",
			body: `{"m":"\u0053ECRET applied","n":"tab\there"}`,
			want: `{"m":"Applied","n":"tab\there"}`,
		},
		{
			name:  "non-ASCII case variant (Kelvin sign)",
			codes: []string{"KEY1"},
			body:  `{"m":"use ` + "\u212a" + `ey1 now","k":"\u212aEY1"}`,
			want:  `{"m":"use now","k":"Discount"}`,
		},
		{
			name:  "code written with an escape by the backend",
			codes: []string{"A/B"},
			body:  `{"m":"code A\/B used","applied_coupons":[{"code":"a\/b"}]}`,
			want:  `{"m":"code used","applied_coupons":[]}`,
		},
		{
			name:  "non-ASCII code",
			codes: []string{"ÉTÉ"},
			body:  `{"m":"\u00e9t\u00e9 2025","n":"Été"}`,
			want:  `{"m":"2025","n":"Discount"}`,
		},
		{
			name: "a gate inside a gate",
			body: `{"l":[{"code":"SECRET","inner":{"code":"SECRET"},"label":"SECRET"},{"code":"X"}]}`,
			want: `{"l":[{"code":"X"}]}`,
		},
		{
			name: "the whole body",
			body: `"SECRET"`,
			want: `"Members save 10%"`,
		},
		{
			name: "the root object",
			body: `{"code":"SECRET"}`,
			want: `null`,
		},
		{
			name:  "digits in numbers only",
			codes: []string{"12345"},
			body:  `{"n":123456,"s":"x"}`,
		},
		{
			name:  "the longest of overlapping codes",
			codes: []string{"VIP", "VIPGOLD"},
			body:  `{"m":"use VIPGOLD now","n":"VIPVIPGOLD"}`,
			want:  `{"m":"use now","n":""}`,
		},
		{
			name: "a code the removal joins",
			body: `{"m":"SESECRETCRET!"}`,
			want: `{"m":"!"}`,
		},
		{
			name: "layout kept",
			body: "{\n  \"a\": [\n    {\"code\": \"SECRET\"},\n    {\"code\": \"B\"}\n  ],\n  \"m\": \"ok\"\n}",
			want: "{\n  \"a\": [\n    {\"code\": \"B\"}\n  ],\n  \"m\": \"ok\"\n}",
		},
		{
			name:   "a label that holds a code itself",
			labels: map[string]string{"GATE-VIP": "GATE-VIP deal"},
			body:   `{"label":"Gate-VIP"}`,
			want:   `{"label":"Deal"}`,
		},
		{
			name:  "empty codes are ignored",
			codes: []string{"", ""},
			body:  `{"m":"anything"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := codes
			if tt.codes != nil {
				c = tt.codes
			}
			l := labels
			if tt.labels != nil {
				l = tt.labels
			}
			got, changed, err := Scrub([]byte(tt.body), c, l)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == "" {
				want = tt.body
			}
			if string(got) != want || changed != (tt.want != "") {
				t.Errorf("Scrub = %s (changed %v)\nwant   %s", got, changed, want)
			}
			if !json.Valid(got) {
				t.Errorf("invalid JSON")
			}
		})
	}

	body := []byte(`{"m":"nothing here"}`)
	if got, _, _ := Scrub(body, codes, nil); &got[0] != &body[0] {
		t.Error("the fast path must return the body itself")
	}
	if _, _, err := Scrub([]byte(`{"m":"SECRET"`), codes, nil); err == nil {
		t.Error("invalid JSON with a code: want an error")
	}
	if got, changed, err := Scrub([]byte(`{"m":`), codes, nil); err != nil || changed || string(got) != `{"m":` {
		t.Errorf("invalid JSON without a code: %s %v %v", got, changed, err)
	}
}

func TestScrubAllocs(t *testing.T) {
	body := scrubBenchBody(t, false)
	codes := []string{"GATE-VIP-7Q2X", "gate-bags-k9"}
	if n := testing.AllocsPerRun(100, func() {
		if _, changed, err := Scrub(body, codes, nil); changed || err != nil {
			t.Fatal(changed, err)
		}
	}); n != 0 {
		t.Errorf("%v allocations when no code is present", n)
	}
}

// FuzzScrub feeds arbitrary bodies and codes to Scrub: it must not panic, must return JSON
// for JSON, and no code may survive in any string (case-insensitively, as EqualFold); keys
// are left alone.
func FuzzScrub(f *testing.F) {
	for _, c := range loadCases(f) {
		if c.ResponseText == "" {
			f.Add([]byte(c.Response), "WELCOME10")
		}
	}
	for _, s := range []string{
		`{"data":{"cart":{"applied_coupons":[{"code":"SECRET"},{"code":"x"}],"prices":{"discounts":[{"label":"secret","coupon":{"code":"Secret"}}]}}}}`,
		`{"errors":[{"message":"The coupon code \"SECRET\" isn't valid."}],"data":null}`,
		`["\u0053ECRET","SE\u0043RET",{"code":"se\u212aret"},"ſecret"]`,
		`{"a":"SESECRETCRET","b":[{"code":"SECRET","c":[{"code":"SECRET"}]}],"SECRET":1}`,
		`"secret"`, `{"code":"SECRET"}`, `[]`, `{"m":"\ud800SECRET"}`, "{\"m\":\"\xffSECRET\xfe\"}",
	} {
		f.Add([]byte(s), "SECRET")
	}
	f.Add([]byte(`{"m":"k  k","l":[{"code":"K"}]}`), "k")
	f.Add([]byte(`{"m":"a/b \"x\""}`), `"x"`)
	f.Fuzz(func(t *testing.T, body []byte, code string) {
		if code == "" || len(code) > 64 || !utf8.ValidString(code) {
			return
		}
		codes := []string{"SECRET", code}
		out, changed, err := Scrub(body, codes, map[string]string{strings.ToUpper(code): "Label " + code})
		valid := json.Valid(body)
		if err != nil {
			if valid && !errors.Is(err, errDepth) {
				t.Fatalf("error for valid JSON %q: %v", body, err)
			}
			return
		}
		if !changed && !bytes.Equal(out, body) {
			t.Fatalf("unchanged but different: %q → %q", body, out)
		}
		if !valid {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid output for %q: %q", body, out)
		}
		for _, s := range stringValues(t, out) {
			for _, c := range codes {
				if containsFold(s, c) {
					t.Fatalf("code %q survives in %q\n in %q\nout %q", c, s, body, out)
				}
			}
		}
	})
}

// stringValues returns every string value of a JSON document (not the keys).
func stringValues(t *testing.T, doc []byte) []string {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(doc))
	var out []string
	// expectKey[i] tells, for each open object, whether the next string token is a key.
	var inObject, expectKey []bool
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("tokens of %q: %v", doc, err)
		}
		n := len(inObject)
		if n > 0 && inObject[n-1] {
			if expectKey[n-1] {
				if _, ok := tok.(string); ok {
					expectKey[n-1] = false
					continue
				}
			}
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{':
				inObject, expectKey = append(inObject, true), append(expectKey, true)
				continue
			case '[':
				inObject, expectKey = append(inObject, false), append(expectKey, false)
				continue
			default:
				inObject, expectKey = inObject[:n-1], expectKey[:n-1]
			}
		case string:
			out = append(out, tok)
		}
		if n := len(inObject); n > 0 && inObject[n-1] {
			expectKey[n-1] = true // a value ended: a key comes next
		}
	}
}

// containsFold is the reference: some run of s with as many runes as code is EqualFold to it.
func containsFold(s, code string) bool {
	n := utf8.RuneCountInString(code)
	for i := range s {
		j, k := i, 0
		for j < len(s) && k < n {
			_, w := utf8.DecodeRuneInString(s[j:])
			j, k = j+w, k+1
		}
		if k == n && strings.EqualFold(s[i:j], code) {
			return true
		}
	}
	return false
}

func TestStringValues(t *testing.T) {
	got := stringValues(t, []byte(`{"k":"v","o":{"k2":["a",{"k3":"b"}],"k4":"c"},"l":[]}`))
	if strings.Join(got, ",") != "v,a,b,c" {
		t.Errorf("stringValues = %q", got)
	}
	if !containsFold("xſecretx", "SECRET") || containsFold("secre", "SECRET") || !containsFold("\u212aey", "key") {
		t.Error("containsFold")
	}
}
