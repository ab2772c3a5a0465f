package gate

import (
	"strings"
	"testing"

	"github.com/caddy-audiences/caddy-audiences/internal/cartql"
)

// answerDoer answers every operation with one body.
type answerDoer string

func (a answerDoer) Do(string, string, map[string]any) ([]byte, error) { return []byte(a), nil }

// TestReadCartNotFound: a cart Magento does not find is an error that carries Magento's
// message (an ordered cart is no longer found), so the log says why an order was refused.
func TestReadCartNotFound(t *testing.T) {
	planner, err := cartql.NewPlanner(cartql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for body, want := range map[string]string{
		`{"errors":[{"message":"Could not find a cart with ID \"abc\"","extensions":{"category":"graphql-no-such-entity"}}],"data":{"cart":null}}`: `read cart: cart not found: Magento: Could not find a cart with ID "abc"`,
		`{"data":{"cart":null}}`: "read cart: cart not found",
	} {
		_, err := GraphQL{Doer: answerDoer(body), Planner: planner}.ReadCart("abc")
		if err == nil || err.Error() != want {
			t.Errorf("answer %s: error %v, want %q", strings.TrimSpace(body), err, want)
		}
	}
}
