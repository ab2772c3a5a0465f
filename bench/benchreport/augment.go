package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/caddy-audiences/caddy-audiences/bench"
)

func readAugment(path string) ([]bench.AugmentRow, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rows []bench.AugmentRow
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

func augmentTotals(rows []bench.AugmentRow) (before, after bench.AugmentNumbers) {
	for _, r := range rows {
		before.Bytes += r.HiddenOnly.Bytes
		before.Fields += r.HiddenOnly.Fields
		before.Duplicates += r.HiddenOnly.Duplicates
		after.Bytes += r.Default.Bytes
		after.Fields += r.Default.Fields
		after.Duplicates += r.Default.Duplicates
	}
	return before, after
}

func writeAugmentText(w io.Writer, rows []bench.AugmentRow) {
	fmt.Fprintf(w, "\nWhat the augmented query adds per Venia operation (as Apollo sends it): before = every fact hidden, after = read where the client selects it\n")
	fmt.Fprintf(w, "%-58s %7s %18s %18s\n", "operation", "client", "before B/fields/dup", "after B/fields/dup")
	for _, r := range rows {
		fmt.Fprintf(w, "%-58s %6dB %6d %4d %4d %6d %4d %4d\n", r.Operation, r.ClientBytes,
			r.HiddenOnly.Bytes, r.HiddenOnly.Fields, r.HiddenOnly.Duplicates, r.Default.Bytes, r.Default.Fields, r.Default.Duplicates)
	}
	b, a := augmentTotals(rows)
	fmt.Fprintf(w, "%-58s %7s %6d %4d %4d %6d %4d %4d\n", "total", "", b.Bytes, b.Fields, b.Duplicates, a.Bytes, a.Fields, a.Duplicates)
}

func writeAugmentMarkdown(w io.Writer, rows []bench.AugmentRow) {
	fmt.Fprintln(w, "### What the augmented query adds")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Per operation of the Venia fixtures, as Apollo sends them (`__typename` added, minified): the bytes and fields the sidecar's hidden text adds, and how many of the hidden fields the client already selects (the backend resolves those twice). Before: every fact the rewrite reads added under a hidden alias (`cartql.Options{HiddenOnly: true}`, the augmentation before issue 16 less its unused subtotal value); after: the facts the client selects itself read where they are.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Operation | client query | before: bytes | fields | of them selected by the client | after: bytes | fields | of them selected by the client |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %d B | %d | %d | %d | %d | %d | %d |\n", r.Operation, r.ClientBytes,
			r.HiddenOnly.Bytes, r.HiddenOnly.Fields, r.HiddenOnly.Duplicates, r.Default.Bytes, r.Default.Fields, r.Default.Duplicates)
	}
	b, a := augmentTotals(rows)
	fmt.Fprintf(w, "| **total** | | %d | %d | %d | %d | %d | %d |\n\n", b.Bytes, b.Fields, b.Duplicates, a.Bytes, a.Fields, a.Duplicates)
}
