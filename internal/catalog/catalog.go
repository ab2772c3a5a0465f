// Package catalog reads the audience catalog: the audiences an operator knows about, with the
// columns of Adobe's "Real-Time CDP Audiences" dashboard.
package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Audience is one entry of the catalog.
type Audience struct {
	ID          string   `json:"id"`
	Name        string   `json:"name,omitempty"`
	Description string   `json:"description,omitempty"`
	Origin      string   `json:"origin,omitempty"`
	Websites    []string `json:"websites,omitempty"`
	LastUpdated string   `json:"last_updated,omitempty"`
}

// Catalog is an immutable, ID-indexed set of audiences.
type Catalog struct {
	audiences []Audience
	byID      map[string]int
}

// Decode reads {"audiences": [...]} strictly: unknown fields, missing or duplicate ids are
// errors, all of them reported.
func Decode(data []byte) (*Catalog, error) {
	var file struct {
		Audiences []Audience `json:"audiences"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("audience catalog: %w", err)
	}
	if dec.More() {
		return nil, errors.New("audience catalog: data after the top-level object")
	}
	c := &Catalog{audiences: file.Audiences, byID: make(map[string]int, len(file.Audiences))}
	var problems []string
	for i, a := range file.Audiences {
		switch {
		case strings.TrimSpace(a.ID) == "":
			problems = append(problems, fmt.Sprintf("audiences[%d]: id: required", i))
		default:
			if j, dup := c.byID[a.ID]; dup {
				problems = append(problems, fmt.Sprintf("audiences[%d] %q: id: duplicate of audiences[%d]", i, a.ID, j))
				continue
			}
			c.byID[a.ID] = i
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("audience catalog: %s", strings.Join(problems, "; "))
	}
	return c, nil
}

// Has reports whether id is in the catalog. A nil catalog has nothing.
func (c *Catalog) Has(id string) bool {
	if c == nil {
		return false
	}
	_, ok := c.byID[id]
	return ok
}

// Get returns the audience with id.
func (c *Catalog) Get(id string) (Audience, bool) {
	if c == nil {
		return Audience{}, false
	}
	i, ok := c.byID[id]
	if !ok {
		return Audience{}, false
	}
	return c.audiences[i], true
}

// All returns a copy of the audiences in file order.
func (c *Catalog) All() []Audience {
	if c == nil {
		return nil
	}
	out := make([]Audience, len(c.audiences))
	for i, a := range c.audiences {
		a.Websites = slices.Clone(a.Websites)
		out[i] = a
	}
	return out
}

// Len is the number of audiences.
func (c *Catalog) Len() int {
	if c == nil {
		return 0
	}
	return len(c.audiences)
}
