package cartql

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"
)

// Augmentation is what a plan's augmented query adds to the client's: the price of the
// rewrite paid by the backend, which resolves every added field.
type Augmentation struct {
	// Bytes is the length of the hidden text.
	Bytes int
	// Fields counts the field selections added: the hidden fields and everything below them.
	Fields int
	// Duplicates counts the hidden fields the client selects itself at the same place (the
	// same field names from the operation down), which the backend resolves twice.
	Duplicates int
}

// Augmentation measures the hidden text the plan adds to the client's query (for reports and
// benchmarks; it parses the query again).
func (p *Plan) Augmentation() Augmentation {
	var a Augmentation
	if !p.HasCart() {
		return a
	}
	for _, in := range p.ins {
		a.Bytes += len(in.text)
		a.Fields += countFields(in.text)
	}
	client := fieldPaths(p.query, p.operationName, false)
	for path := range fieldPaths(p.augmented, p.operationName, true) {
		if client[path] {
			a.Duplicates++
		}
	}
	return a
}

// countFields counts the fields of hidden text: names that are not aliases.
func countFields(text string) int {
	lx := lexer.New(&ast.Source{Input: "{" + text + "}"})
	var toks []lexer.Token
	for {
		tok, err := lx.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			break
		}
		toks = append(toks, tok)
	}
	n := 0
	for i, tok := range toks {
		if tok.Kind == lexer.Name && (i+1 == len(toks) || toks[i+1].Kind != lexer.Colon) {
			n++
		}
	}
	return n
}

// fieldPaths returns the field-name paths (from the operation, through fragments) of the
// operation's fields: every field, or with hidden only the fields under a hidden alias (not
// their children).
func fieldPaths(query, operationName string, hidden bool) map[string]bool {
	out := map[string]bool{}
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return out
	}
	op, err := operation(doc, operationName)
	if err != nil {
		return out
	}
	col := &collector{frags: map[string]*ast.FragmentDefinition{}}
	for _, f := range doc.Fragments {
		col.frags[f.Name] = f
	}
	var walk func(occs []occ, prefix string)
	walk = func(occs []occ, prefix string) {
		for _, o := range col.collectAll(occs) {
			path := prefix + o.f.Name
			isHidden := strings.HasPrefix(o.key, HiddenPrefix)
			switch {
			case !hidden:
				out[path] = true
			case isHidden:
				out[path] = true
				continue
			}
			walk([]occ{o}, path+".")
		}
	}
	walk([]occ{{f: &ast.Field{SelectionSet: op.SelectionSet}}}, "")
	return out
}
