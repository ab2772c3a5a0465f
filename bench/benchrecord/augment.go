package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/caddy-audiences/caddy-audiences/internal/apollo"
	"github.com/caddy-audiences/caddy-audiences/internal/cartql"
)

// augmentRow is what the augmented query adds to one Venia operation, as Apollo sends it:
// with every fact hidden (the augmentation before issue 16) and with the facts the client
// selects itself read where they are (the planner's default).
type augmentRow struct {
	Operation   string         `json:"operation"`
	ClientBytes int            `json:"client_bytes"`
	HiddenOnly  augmentNumbers `json:"hidden_only"`
	Default     augmentNumbers `json:"default"`
}

type augmentNumbers struct {
	Bytes      int `json:"bytes"`
	Fields     int `json:"fields"`
	Duplicates int `json:"duplicates"`
}

// augmentation measures every operation of the fixture under both planners.
func augmentation(fixture string) ([]augmentRow, error) {
	b, err := os.ReadFile(fixture)
	if err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	var ops []struct {
		Source string `json:"source"`
		Query  string `json:"query"`
	}
	if err := json.Unmarshal(b, &ops); err != nil {
		return nil, fmt.Errorf("fixture %s: %w", fixture, err)
	}
	def, err := cartql.NewPlanner(cartql.Options{CacheSize: -1})
	if err != nil {
		return nil, err
	}
	hidden, err := cartql.NewPlanner(cartql.Options{CacheSize: -1, HiddenOnly: true})
	if err != nil {
		return nil, err
	}
	var rows []augmentRow
	for _, op := range ops {
		query, err := apollo.Prepare(op.Query)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op.Source, err)
		}
		row := augmentRow{Operation: op.Source[strings.LastIndex(op.Source, "/")+1:], ClientBytes: len(query)}
		for _, m := range []struct {
			pl  *cartql.Planner
			out *augmentNumbers
		}{{hidden, &row.HiddenOnly}, {def, &row.Default}} {
			plan, err := m.pl.Plan(query, "")
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op.Source, err)
			}
			a := plan.Augmentation()
			*m.out = augmentNumbers{Bytes: a.Bytes, Fields: a.Fields, Duplicates: a.Duplicates}
		}
		rows = append(rows, row)
	}
	return rows, nil
}
