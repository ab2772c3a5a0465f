package memo

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func TestGetPut(t *testing.T) {
	tb := New[int](3, 8) // rounded up to 4 slots
	if len(tb.slots) != 4 {
		t.Fatalf("%d slots, want 4", len(tb.slots))
	}
	if _, ok := tb.Get("a"); ok {
		t.Fatal("an empty table holds a")
	}
	tb.Put("a", 1)
	if v, ok := tb.Get("a"); !ok || v != 1 {
		t.Fatalf("Get(a) = %d, %v", v, ok)
	}
	tb.Put("a", 2)
	if v, _ := tb.Get("a"); v != 2 {
		t.Fatalf("Get(a) after a second Put = %d", v)
	}
	tb.Put("123456789", 9) // over maxKey: not kept
	if _, ok := tb.Get("123456789"); ok || tb.Len() != 1 {
		t.Fatalf("a key over maxKey was kept (%d slots used)", tb.Len())
	}
}

// TestForgets: more keys than slots; every key read back is its own value, the table never
// holds more than its slots, and a key whose slot was taken over reads as absent.
func TestForgets(t *testing.T) {
	tb := New[string](16, 64)
	for i := range 1000 {
		k := fmt.Sprint("key-", i)
		tb.Put(k, strings.ToUpper(k))
	}
	if tb.Len() > 16 {
		t.Fatalf("%d slots used of 16", tb.Len())
	}
	kept := 0
	for i := range 1000 {
		k := fmt.Sprint("key-", i)
		if v, ok := tb.Get(k); ok {
			kept++
			if v != strings.ToUpper(k) {
				t.Fatalf("Get(%s) = %s", k, v)
			}
		}
	}
	if kept == 0 || kept > 16 {
		t.Fatalf("%d keys kept by 16 slots", kept)
	}
}

// TestKeyCopied: the table keeps its own copy of a key, not the caller's memory.
func TestKeyCopied(t *testing.T) {
	tb := New[int](4, 64)
	line := "GET /graphql?query{cart} HTTP/1.1"
	key := line[13:24] // a substring, as a URL's query is of its request line
	tb.Put(key, 1)
	e := tb.slot(key).Load()
	if e == nil || e.key != key {
		t.Fatalf("entry %+v", e)
	}
	if unsafe.StringData(e.key) == unsafe.StringData(key) {
		t.Fatal("the key shares the caller's memory")
	}
}

// TestConcurrent reads and writes from many goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	tb := New[int](8, 16)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 5000 {
				k := fmt.Sprint(i % 50)
				if v, ok := tb.Get(k); ok && v != i%50 {
					t.Errorf("Get(%s) = %d", k, v)
					return
				}
				if (g+i)%3 == 0 {
					tb.Put(k, i%50)
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkGet(b *testing.B) {
	tb := New[bool](256, 2048)
	key := strings.Repeat("operationName=ProductSearch&query=query+ProductSearch", 9)
	tb.Put(key, true)
	for b.Loop() {
		tb.Get(key)
	}
}
