// Package apollo reproduces what Apollo Client (PWA Studio / Venia) does to a GraphQL
// document before sending it, so tests and tools send what real storefronts send.
package apollo

import (
	"fmt"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"
)

// Prepare adds __typename to every selection set but the operations' own, as Apollo does,
// and minifies the document the way PWA Studio minifies GET queries (comments dropped,
// whitespace runs collapsed to one space).
func Prepare(query string) (string, error) {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return "", fmt.Errorf("parse: %w", err)
	}
	AddTypename(doc)
	var b strings.Builder
	formatter.NewFormatter(&b, formatter.WithCompacted()).FormatQueryDocument(doc)
	return strings.Join(strings.Fields(b.String()), " "), nil
}

// AddTypename adds __typename to every selection set of doc but the operations' own.
func AddTypename(doc *ast.QueryDocument) {
	for _, op := range doc.Operations {
		for _, sel := range op.SelectionSet {
			addTypename(sel)
		}
	}
	for _, frag := range doc.Fragments {
		frag.SelectionSet = withTypename(frag.SelectionSet)
	}
}

func addTypename(sel ast.Selection) {
	switch s := sel.(type) {
	case *ast.Field:
		if len(s.SelectionSet) > 0 {
			s.SelectionSet = withTypename(s.SelectionSet)
		}
	case *ast.InlineFragment:
		for _, child := range s.SelectionSet {
			addTypename(child)
		}
	}
}

func withTypename(set ast.SelectionSet) ast.SelectionSet {
	for _, sel := range set {
		addTypename(sel)
	}
	for _, sel := range set {
		if f, ok := sel.(*ast.Field); ok && f.Name == "__typename" && (f.Alias == "" || f.Alias == f.Name) {
			return set
		}
	}
	return append(set, &ast.Field{Name: "__typename", Alias: "__typename"})
}
