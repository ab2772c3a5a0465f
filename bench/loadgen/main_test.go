package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoopbackOnly: the load generator refuses every target that is not on this machine.
func TestLoopbackOnly(t *testing.T) {
	for _, target := range []string{
		"http://example.com",
		"http://10.0.0.1:8080",
		"http://0.0.0.0:8080",
		"https://127.0.0.1",
		"http://127.0.0.1.example.com",
	} {
		if _, err := parseFlags([]string{"-target", target}); err == nil {
			t.Errorf("target %s accepted", target)
		}
	}
	for _, target := range []string{"http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:8080"} {
		if _, err := parseFlags([]string{"-target", target}); err != nil {
			t.Errorf("target %s refused: %v", target, err)
		}
	}
}

// TestPathsStayOnTarget: a request path cannot name another host.
func TestPathsStayOnTarget(t *testing.T) {
	for _, p := range []string{"//example.com/graphql", "http://example.com/", "graphql"} {
		if _, err := parseFlags([]string{"-target", "http://127.0.0.1:8080", "-path", p}); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
}

func TestRequestRotation(t *testing.T) {
	dir := t.TempDir()
	paths := filepath.Join(dir, "paths")
	values := filepath.Join(dir, "values")
	if err := os.WriteFile(paths, []byte("/graphql?query=a\n/graphql?query=b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(values, []byte("s1\r\ns2\ns3\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseFlags([]string{"-target", "http://127.0.0.1:8080", "-paths", paths,
		"-H", "Store: default", "-header-values", "aep-segments-membership=" + values,
		"-method", "POST", "-body", `{"q":1}`})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range uint64(6) {
		r := cfg.src.request(context.Background(), i)
		if r.Method != "POST" || r.Header.Get("Store") != "default" || r.ContentLength != 7 || r.Host != "127.0.0.1:8080" {
			t.Fatalf("request %d: %s %s %v %d", i, r.Method, r.Host, r.Header, r.ContentLength)
		}
		got = append(got, r.URL.RawQuery+" "+r.Header.Get("Aep-Segments-Membership"))
	}
	want := "query=a s1,query=b s2,query=a s3,query=b s1,query=a s2,query=b s3"
	if strings.Join(got, ",") != want {
		t.Fatalf("rotation = %s\nwant       %s", strings.Join(got, ","), want)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-target", "http://127.0.0.1:1", "-c", "0"},
		{"-target", "http://127.0.0.1:1", "-d", "0s"},
		{"-target", "http://127.0.0.1:1", "-body", "x", "-body-file", "y"},
		{"-target", "http://127.0.0.1:1", "-H", "no-colon"},
		{"-target", "http://127.0.0.1:1", "-header-values", "x"},
		{"-target", "http://127.0.0.1:1", "extra"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}
