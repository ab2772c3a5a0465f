package main

import (
	"errors"
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

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
