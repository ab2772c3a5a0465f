package loopback

import (
	"context"
	"net"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url     string
		wantErr string
	}{
		{"http://127.0.0.1:8080", ""},
		{"http://127.1.2.3/graphql", ""},
		{"http://localhost:9080/", ""},
		{"http://[::1]:8080", ""},
		{"http://[::ffff:127.0.0.1]:8080", ""},
		{"http://example.com", "not a loopback"},
		{"http://10.0.0.1:8080", "not a loopback"},
		{"http://0.0.0.0:8080", "not a loopback"},
		{"http://[::]:8080", "not a loopback"},
		{"http://localhost.example.com", "not a loopback"},
		{"http://127.0.0.1.nip.io", "not a loopback"},
		{"https://127.0.0.1", "only http://"},
		{"127.0.0.1:8080", "url"},
		{"ftp://127.0.0.1/", "only http://"},
		{"http://user:pw@127.0.0.1", "credentials"},
		{"http:///graphql", "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := CheckURL(tt.url)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckURL(%q) = %v, want ok", tt.url, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CheckURL(%q) = %v, want error containing %q", tt.url, err, tt.wantErr)
			}
		})
	}
}

func TestCheckListen(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:0":    true,
		"localhost:9080": true,
		"[::1]:0":        true,
		":8080":          false,
		"0.0.0.0:8080":   false,
		"192.168.1.2:80": false,
		"nonsense":       false,
	} {
		if err := CheckListen(addr); (err == nil) != ok {
			t.Errorf("CheckListen(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

func TestControl(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:80":         true,
		"[::1]:80":             true,
		"[::ffff:127.0.0.1]:1": true,
		"10.1.2.3:80":          false,
		"[2001:db8::1]:443":    false,
		"not-an-address":       false,
	} {
		if err := control("tcp", addr, nil); (err == nil) != ok {
			t.Errorf("control(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

// TestDialContext dials a real loopback listener and is refused a non-loopback address
// before any packet leaves the machine.
func TestDialContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("loopback dial: %v", err)
	}
	conn.Close()
	if _, err := DialContext(context.Background(), "tcp", "192.0.2.1:80"); err == nil || !strings.Contains(err.Error(), "not a loopback") {
		t.Fatalf("dial to 192.0.2.1 = %v, want refused as not loopback", err)
	}
}
