package gate

import (
	"slices"
	"testing"
)

func TestDecide(t *testing.T) {
	gates := NewCodes("GATE-VIP", "gate-bags")
	tests := []struct {
		name    string
		applied []string
		want    []string
		multi   bool
		policy  Policy
		remove  []string
		apply   []string
	}{
		{"qualifies, nothing applied", nil, []string{"GATE-VIP"}, false, ShopperWins, nil, []string{"GATE-VIP"}},
		{"qualifies, already held (any case)", []string{"gate-vip"}, []string{"GATE-VIP"}, false, ShopperWins, nil, nil},
		{"left the audience", []string{"GATE-VIP"}, nil, false, ShopperWins, []string{"GATE-VIP"}, nil},
		{"not qualified, nothing held", nil, nil, false, ShopperWins, nil, nil},
		{"switch gate", []string{"GATE-BAGS"}, []string{"GATE-VIP"}, false, ShopperWins, []string{"GATE-BAGS"}, []string{"GATE-VIP"}},
		{"two qualify, one slot", nil, []string{"GATE-VIP", "GATE-BAGS"}, false, ShopperWins, nil, []string{"GATE-VIP"}},
		{"shopper coupon wins", []string{"WELCOME10"}, []string{"GATE-VIP"}, false, ShopperWins, nil, nil},
		{"audience wins", []string{"WELCOME10"}, []string{"GATE-VIP"}, false, AudienceWins, []string{"WELCOME10"}, []string{"GATE-VIP"}},
		{"audience wins, not qualified", []string{"WELCOME10"}, nil, false, AudienceWins, nil, nil},
		{"multi: both coexist", []string{"WELCOME10"}, []string{"GATE-VIP"}, true, ShopperWins, nil, []string{"GATE-VIP"}},
		{"multi: two gates", []string{"GATE-BAGS", "WELCOME10"}, []string{"GATE-VIP", "GATE-BAGS"}, true, ShopperWins, nil, []string{"GATE-VIP"}},
		{"multi: leave one", []string{"GATE-BAGS", "GATE-VIP"}, []string{"GATE-VIP"}, true, ShopperWins, []string{"GATE-BAGS"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.applied, tt.want, gates, tt.multi, tt.policy)
			if !slices.Equal(got.Remove, tt.remove) || !slices.Equal(got.Apply, tt.apply) {
				t.Fatalf("Decide = remove %q apply %q, want remove %q apply %q", got.Remove, got.Apply, tt.remove, tt.apply)
			}
			if got.Empty() != (len(tt.remove) == 0 && len(tt.apply) == 0) {
				t.Fatal("Empty disagrees")
			}
		})
	}
}

func TestCodes(t *testing.T) {
	c := NewCodes("Gate-Vip", "b")
	if !c.Has("GATE-VIP") || !c.Has("gate-vip") || c.Has("gate") {
		t.Fatal("case-insensitive membership")
	}
	if l := c.List(); !slices.Equal(l, []string{"B", "GATE-VIP"}) {
		t.Fatalf("List = %q", l)
	}
	if !ShopperWins.Valid() || !AudienceWins.Valid() || Policy("x").Valid() {
		t.Fatal("policy validity")
	}
}

func TestWeak(t *testing.T) {
	for code, weak := range map[string]bool{"AUD-VIP-7Q2X": false, "VIP": true, "SUMMER SALE": true, "abcdefg": true, "abc_defg": false} {
		if Weak(code) != weak {
			t.Errorf("Weak(%q) = %v", code, !weak)
		}
	}
}

func TestTyped(t *testing.T) {
	codes := NewCodes("AUD-VIP-7Q2X", "POOLCODE1")
	for typed, want := range map[string]bool{
		"AUD-VIP-7Q2X":       true,
		"aud-vip-7q2x":       true,
		" AUD-VIP-7Q2X\t\n":  true,
		"AUD-VIP-7Q2X\x00":   true,
		"AUD-VIP-7Q2X   ":    true,
		"ÄUD-VÍP-7Q2X":       true, // general_ci ignores accents
		"AUD-VIP-7Q2Ｘ":       true, // fullwidth folds to ASCII
		"AUD-VIP-7Q2ß":       true, // a letter MySQL may equate: refused conservatively
		"poolcode1":          true,
		"AUD-VIP-7Q2":        false,
		"WELCOME10":          false,
		"NOËL2026":           false,
		"AUD-VIP-7Q2X-EXTRA": false,
	} {
		if got := codes.Typed(typed); got != want {
			t.Errorf("Typed(%q) = %v, want %v", typed, got, want)
		}
	}
}
