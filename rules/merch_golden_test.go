package rules

import (
	"encoding/json"
	"testing"
	"time"
)

// merchGolden is one file under testdata/merch: a rule file and shoppers with the
// merchandising outcome the simulator prints for them (worked out by hand from the rules'
// documented semantics).
type merchGolden struct {
	Description string            `json:"description"`
	Rules       json.RawMessage   `json:"rules"`
	Cases       []merchGoldenCase `json:"cases"`
}

type merchGoldenCase struct {
	Name     string          `json:"name"`
	Segments []string        `json:"segments"`
	At       string          `json:"at"` // RFC 3339; default noon, 2026-06-01 UTC
	Input    json.RawMessage `json:"input"`
	Expected json.RawMessage `json:"expected"` // the "merchandising" part of the output
}

func TestMerchandisingGolden(t *testing.T) {
	for name, g := range loadJSONFiles[merchGolden](t, "merch") {
		rs, err := Decode(g.Rules)
		if err != nil {
			t.Fatalf("%s: rules: %v", name, err)
		}
		for _, c := range g.Cases {
			t.Run(name+"/"+c.Name, func(t *testing.T) {
				sim, err := DecodeSimulation(c.Input)
				if err != nil {
					t.Fatalf("input: %v", err)
				}
				at := noon
				if c.At != "" {
					if at, err = time.Parse(time.RFC3339, c.At); err != nil {
						t.Fatal(err)
					}
				}
				got, err := json.Marshal(rs.Simulate(sim, c.Segments, at).Merchandising)
				if err != nil {
					t.Fatal(err)
				}
				if !jsonEqual(t, got, c.Expected) {
					t.Errorf("%s\ngot:  %s\nwant: %s", g.Description, got, compactJSON(t, c.Expected))
				}
			})
		}
	}
}
