package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"
)

// apolloize does to a query what Apollo Client does before sending it: __typename is added to
// every selection set but the operations' own, and the document is minified the way PWA
// Studio minifies GET queries (comments dropped, whitespace runs collapsed to one space).
func apolloize(query string) (string, error) {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return "", fmt.Errorf("parse: %w", err)
	}
	for _, op := range doc.Operations {
		for _, sel := range op.SelectionSet {
			addTypename(sel)
		}
	}
	for _, frag := range doc.Fragments {
		frag.SelectionSet = withTypename(frag.SelectionSet)
	}
	var b strings.Builder
	formatter.NewFormatter(&b, formatter.WithCompacted()).FormatQueryDocument(doc)
	return strings.Join(strings.Fields(b.String()), " "), nil
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

// operationName returns the name of the document's only operation.
func operationName(query string) (string, error) {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return "", fmt.Errorf("parse: %w", err)
	}
	if len(doc.Operations) != 1 || doc.Operations[0].Name == "" {
		return "", errors.New("want exactly one named operation")
	}
	return doc.Operations[0].Name, nil
}
