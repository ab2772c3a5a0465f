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

// Audience is one entry of the catalog. Lifecycle, Activated and Flows are written by the
// Experience Platform sync; a hand-written catalog may leave them out.
type Audience struct {
	ID          string   `json:"id"`
	Name        string   `json:"name,omitempty"`
	Description string   `json:"description,omitempty"`
	Origin      string   `json:"origin,omitempty"`
	Websites    []string `json:"websites,omitempty"`
	LastUpdated string   `json:"last_updated,omitempty"`
	// Lifecycle is the audience's state in Experience Platform: "published", "draft" or
	// "inactive" (deactivated); empty when the catalog does not say.
	Lifecycle string `json:"lifecycle,omitempty"`
	// Activated says whether the audience is activated to the store's destination, that is
	// selected in an enabled dataflow the operator named; nil when the catalog does not say.
	Activated *bool `json:"activated,omitempty"`
	// Flows are the IDs of the named dataflows that select the audience.
	Flows []string `json:"flows,omitempty"`
}

// Lifecycle states of an Experience Platform audience.
const (
	LifecyclePublished = "published"
	LifecycleDraft     = "draft"
	LifecycleInactive  = "inactive"
)

// Warning says in plain words why rules should not rely on the audience: deactivated or
// unpublished in Experience Platform, or not activated to the store's destination. It is empty
// when nothing is known against it, as for entries of a hand-written catalog.
func (a Audience) Warning() string {
	var why []string
	switch a.Lifecycle {
	case "", LifecyclePublished:
	case LifecycleInactive:
		why = append(why, "deactivated in Experience Platform")
	case LifecycleDraft:
		why = append(why, "a draft, not published in Experience Platform")
	default:
		why = append(why, fmt.Sprintf("in state %q in Experience Platform", a.Lifecycle))
	}
	if a.Activated != nil && !*a.Activated {
		why = append(why, "not activated to the store's destination")
	}
	return strings.Join(why, "; ")
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
	return c.audiences[i].clone(), true
}

// All returns a copy of the audiences in file order.
func (c *Catalog) All() []Audience {
	if c == nil {
		return nil
	}
	out := make([]Audience, len(c.audiences))
	for i, a := range c.audiences {
		out[i] = a.clone()
	}
	return out
}

// clone copies a's slices and pointers, so callers cannot change the catalog.
func (a Audience) clone() Audience {
	a.Websites = slices.Clone(a.Websites)
	a.Flows = slices.Clone(a.Flows)
	if a.Activated != nil {
		activated := *a.Activated
		a.Activated = &activated
	}
	return a
}

// Encode writes audiences as a catalog document, {"audiences": [...]}, one audience per line,
// that Decode reads back. Equal input gives equal bytes, so a source that re-encodes an
// unchanged catalog keeps its version.
func Encode(audiences []Audience) ([]byte, error) {
	if audiences == nil {
		audiences = []Audience{}
	}
	var buf bytes.Buffer
	buf.WriteString("{\n  \"audiences\": [")
	for i, a := range audiences {
		line, err := json.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("audience catalog: audiences[%d]: %w", i, err)
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n    ")
		buf.Write(line)
	}
	if len(audiences) > 0 {
		buf.WriteString("\n  ")
	}
	buf.WriteString("]\n}\n")
	return buf.Bytes(), nil
}

// Len is the number of audiences.
func (c *Catalog) Len() int {
	if c == nil {
		return 0
	}
	return len(c.audiences)
}
