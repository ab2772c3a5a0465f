package phpread

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxJSONDepth is json_decode's default depth: nesting deeper than this fails in PHP.
const MaxJSONDepth = 512

// CheckJSON reports, for a document Go's encoding/json accepts, whether PHP's json_decode
// reads the same thing: PHP refuses invalid UTF-8 and unpaired UTF-16 surrogate escapes,
// which Go silently replaces, and nesting deeper than MaxJSONDepth.
func CheckJSON(b []byte) error {
	if !utf8.Valid(b) {
		return errors.New("json: invalid UTF-8")
	}
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '{', '[':
			if depth++; depth > MaxJSONDepth {
				return fmt.Errorf("json: nested deeper than %d", MaxJSONDepth)
			}
		case '}', ']':
			depth--
		case '"':
			end, err := checkString(b, i+1)
			if err != nil {
				return err
			}
			i = end
		}
	}
	return nil
}

// checkString scans the string starting at b[i] (after its quote) and returns the index of
// its closing quote; escapes of UTF-16 surrogates must come in pairs.
func checkString(b []byte, i int) (int, error) {
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i, nil
		case '\\':
			if i+1 < len(b) && b[i+1] == 'u' {
				r, ok := hex4(b, i+2)
				if ok && r >= 0xD800 && r <= 0xDBFF {
					lo, ok2 := rune(0), false
					if i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
						lo, ok2 = hex4(b, i+8)
					}
					if !ok2 || lo < 0xDC00 || lo > 0xDFFF {
						return 0, errors.New("json: unpaired UTF-16 surrogate")
					}
					i += 11
					continue
				}
				if ok && r >= 0xDC00 && r <= 0xDFFF {
					return 0, errors.New("json: unpaired UTF-16 surrogate")
				}
				i += 5
				continue
			}
			i++
		}
	}
	return len(b), nil
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		if !isHex(c) {
			return 0, false
		}
		r = r<<4 | rune(unhex(c))
	}
	return r, true
}
