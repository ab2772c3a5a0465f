package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/caddy-audiences/caddy-audiences/bench"
	"github.com/caddy-audiences/caddy-audiences/internal/apollo"
	"github.com/caddy-audiences/caddy-audiences/internal/cartql"
)

// augmentation measures every operation of the fixture under both planners.
func augmentation(fixture string) ([]bench.AugmentRow, error) {
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
	var rows []bench.AugmentRow
	for _, op := range ops {
		query, err := apollo.Prepare(op.Query)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op.Source, err)
		}
		row := bench.AugmentRow{Operation: op.Source[strings.LastIndex(op.Source, "/")+1:], ClientBytes: len(query)}
		for _, m := range []struct {
			pl  *cartql.Planner
			out *bench.AugmentNumbers
		}{{hidden, &row.HiddenOnly}, {def, &row.Default}} {
			plan, err := m.pl.Plan(query, "")
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op.Source, err)
			}
			a := plan.Augmentation()
			*m.out = bench.AugmentNumbers{Bytes: a.Bytes, Fields: a.Fields, Duplicates: a.Duplicates}
		}
		rows = append(rows, row)
	}
	return rows, nil
}
