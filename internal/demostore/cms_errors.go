package demostore

import (
	"encoding/json"
	"strings"

	gqlerrors "github.com/graph-gophers/graphql-go/errors"
	"github.com/vektah/gqlparser/v2/ast"
)

// cmsBlockErrors returns the errors Magento reports beside cmsBlocks' null items. Magento's
// Blocks resolver puts a GraphQlNoSuchEntityException in the place of each unknown or disabled
// block; graphql-php turns it into a null item and an error whose path ends at the item's
// index and whose location is the items field. graphql-go cannot fail one list item, so the
// demo store finds each selected cmsBlocks.items in the answer and adds the errors for its
// nulls, computed again from the field's identifiers.
func cmsBlockErrors(doc *ast.QueryDocument, opName string, vars map[string]any, data json.RawMessage) []responseError {
	if doc == nil || len(data) == 0 {
		return nil
	}
	op := doc.Operations.ForName(opName)
	if op == nil || op.Operation != ast.Query {
		return nil
	}
	var answer map[string]json.RawMessage
	if json.Unmarshal(data, &answer) != nil {
		return nil
	}
	var out []responseError
	for _, f := range fieldsNamed(doc, op.SelectionSet, "cmsBlocks") {
		key := responseKey(f)
		ids, ok := identifiersArg(f, vars)
		if !ok {
			continue
		}
		var blocks map[string]json.RawMessage
		if json.Unmarshal(answer[key], &blocks) != nil {
			continue
		}
		out = append(out, itemErrors(doc, f, key, ids, blocks)...)
	}
	return out
}

// itemErrors reports the null items of one cmsBlocks answer under every key items is selected as.
func itemErrors(doc *ast.QueryDocument, f *ast.Field, key string, ids []string, blocks map[string]json.RawMessage) []responseError {
	var out []responseError
	for _, items := range fieldsNamed(doc, f.SelectionSet, "items") {
		itemsKey := responseKey(items)
		var list []json.RawMessage
		if json.Unmarshal(blocks[itemsKey], &list) != nil {
			continue
		}
		for i, item := range list {
			if i >= len(ids) || strings.TrimSpace(string(item)) != "null" {
				continue
			}
			out = append(out, responseError{
				Message:    cmsBlockMissing(ids[i]),
				Extensions: map[string]any{"category": categoryNoSuchEntity},
				Locations:  []gqlerrors.Location{{Line: items.Position.Line, Column: items.Position.Column}},
				Path:       []any{key, itemsKey, i},
			})
		}
	}
	return out
}

// identifiersArg evaluates a cmsBlocks field's identifiers as the resolver received them
// (a single string is a list of one), without repeats.
func identifiersArg(f *ast.Field, vars map[string]any) ([]string, bool) {
	arg := f.Arguments.ForName("identifiers")
	if arg == nil || arg.Value == nil {
		return nil, false
	}
	v, err := arg.Value.Value(vars)
	if err != nil {
		return nil, false
	}
	var list []*string
	switch v := v.(type) {
	case string:
		list = []*string{&v}
	case []any:
		for _, e := range v {
			s, _ := e.(string)
			list = append(list, &s)
		}
	default:
		return nil, false
	}
	ids, err := cmsBlockIdentifiers(&list)
	return ids, err == nil
}

// fieldsNamed collects the fields of a selection set with the given schema name, the first
// of each response key only (the others merge into it).
func fieldsNamed(doc *ast.QueryDocument, set ast.SelectionSet, name string) []*ast.Field {
	seen := map[string]bool{}
	return collectFields(doc, set, func(f *ast.Field) bool {
		if f.Name != name || seen[responseKey(f)] {
			return false
		}
		seen[responseKey(f)] = true
		return true
	}, nil, 0)
}
