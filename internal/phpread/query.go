// Package phpread reads request input the way PHP reads it for Magento: query strings and
// form bodies as PHP registers $_GET and $_POST (php_default_treat_data and
// php_register_variable_ex), JSON as json_decode accepts it, strings as trim cuts them. The
// coupon gate uses it to see a request exactly as Magento will, or to know that it cannot.
package phpread

import "strings"

// MaxInputVars is PHP's default max_input_vars: variables past it are dropped.
const MaxInputVars = 1000

// Var is what PHP registers for one name=value pair.
type Var struct {
	// Name is the variable's name after decoding and PHP's mangling (spaces and dots become
	// "_", leading spaces go, a NUL ends it); for an array, the name of the array.
	Name string
	// Array reports a name with an index ("a[]", "a[x]"): PHP's variable is an array.
	Array bool
	// Value is the decoded value.
	Value string
}

// Vars is a query string or form body as PHP registers it, in order.
type Vars struct {
	List []Var
	// Dropped reports pairs PHP ignores past max_input_vars.
	Dropped bool
}

// ParseQuery reads a query string as PHP builds $_GET from it: pairs separated by "&"
// (empty ones skipped), names and values URL-decoded, names mangled.
func ParseQuery(raw string) Vars {
	return parse(raw, true)
}

// ParseForm reads an application/x-www-form-urlencoded body as PHP builds $_POST from it.
// Unlike a query string, empty pairs count towards max_input_vars.
func ParseForm(body string) Vars {
	return parse(body, false)
}

func parse(raw string, skipEmpty bool) Vars {
	var vs Vars
	count := 0
	for rest := raw; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" && skipEmpty {
			continue
		}
		if count++; count > MaxInputVars {
			vs.Dropped = true
			break
		}
		name, value, _ := strings.Cut(pair, "=")
		if v, ok := Register(URLDecode(name), URLDecode(value)); ok {
			vs.List = append(vs.List, v)
		}
	}
	return vs
}

// Register applies php_register_variable_ex's treatment of a decoded name (a multipart
// field's name, say); ok is false when PHP discards the pair.
func Register(name, value string) (Var, bool) {
	if i := strings.IndexByte(name, 0); i >= 0 {
		name = name[:i] // the name is a C string
	}
	name = strings.TrimLeft(name, " ")
	var b strings.Builder
	b.Grow(len(name))
	open := -1
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '[' {
			open = i
			break
		}
		if c == ' ' || c == '.' {
			c = '_'
		}
		b.WriteByte(c)
	}
	base := b.String()
	if base == "" || mangledPrefix(base, name, "__Host-") || mangledPrefix(base, name, "__Secure-") {
		return Var{}, false
	}
	if open < 0 {
		return Var{Name: base, Value: value}, true
	}
	index := name[open+1:]
	if len(index) > 0 && isSpace(index[0]) {
		index = index[1:]
	}
	if strings.IndexByte(index, ']') >= 0 {
		return Var{Name: base, Array: true, Value: value}, true
	}
	// "[" without "]": not an index; PHP turns it and the rest's " . [" into "_".
	rest := []byte(name[open+1:])
	for i, c := range rest {
		if c == ' ' || c == '.' || c == '[' {
			rest[i] = '_'
		}
	}
	return Var{Name: base + "_" + string(rest), Value: value}, true
}

// mangledPrefix reports PHP's rule that a name mangled into a cookie prefix is dropped.
func mangledPrefix(mangled, original, prefix string) bool {
	return strings.HasPrefix(mangled, prefix) && !strings.HasPrefix(original, prefix)
}

// isSpace is C's isspace in the "C" locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// Lookup returns what PHP holds under name after every pair was registered: the last pair
// wins, and an array replaces a string (and the other way round).
func (vs Vars) Lookup(name string) (value string, array, ok bool) {
	for i := len(vs.List) - 1; i >= 0; i-- {
		if v := vs.List[i]; v.Name == name {
			return v.Value, v.Array, true
		}
	}
	return "", false, false
}

// Count returns how many pairs PHP registers under name.
func (vs Vars) Count(name string) int {
	n := 0
	for _, v := range vs.List {
		if v.Name == name {
			n++
		}
	}
	return n
}

// URLDecode decodes s as PHP's urldecode: "+" is a space, "%XX" a byte, and a "%" without
// two hex digits stays as it is.
func URLDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// RawURLDecode is PHP's rawurldecode: URLDecode without "+" for a space.
func RawURLDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// TrimSet is what PHP's trim removes by default.
const TrimSet = " \t\n\r\x00\x0b"

// Trim is PHP's trim with its default characters.
func Trim(s string) string { return strings.Trim(s, TrimSet) }
