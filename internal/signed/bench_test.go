package signed

import (
	"fmt"
	"testing"
)

func benchSegments(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
	}
	return ids
}

func BenchmarkEncode(b *testing.B) {
	k := mustKeys(b, "new", "old")
	for _, n := range []int{0, 3, 30} {
		m := member(benchSegments(n)...)
		b.Run(fmt.Sprintf("segments-%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.Encode(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	k := mustKeys(b, "new", "old")
	for _, n := range []int{0, 3, 30} {
		value := mustEncode(b, k, member(benchSegments(n)...))
		b.Run(fmt.Sprintf("segments-%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(value)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.Decode(value, now, ecid); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// Rejections: what a flood of forged cookies costs.
	value := mustEncode(b, k, member(benchSegments(3)...))
	for name, v := range map[string]string{
		"bad-signature": value[:len(value)-2] + "AA",
		"unknown-key":   mustEncode(b, mustKeys(b, "forger"), member(benchSegments(3)...)),
		"malformed":     "garbage",
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.Decode(v, now, ecid); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}
