package main

import (
	"log/slog"
	"net"
	"strings"
	"testing"
)

// boundAs is a real listener on loopback that reports another address, as
// one would after a hosts file mapped "localhost" elsewhere.
type boundAs struct {
	net.Listener
	addr   *net.TCPAddr
	closed bool
}

func (b *boundAs) Addr() net.Addr { return b.addr }
func (b *boundAs) Close() error   { b.closed = true; return b.Listener.Close() }

// TestListenJudgesTheBoundAddress: in dev and easyauth modes the address
// actually bound must be loopback, whatever name LISTEN_HOST gave.
func TestListenJudgesTheBoundAddress(t *testing.T) {
	cases := []struct {
		bound    string
		loopback bool
	}{
		{"0.0.0.0", false},
		{"::", false},
		{"192.0.2.10", false},
		{"10.1.2.3", false},
		{"::ffff:10.1.2.3", false},
		{"fe80::1", false},
		{"2001:db8::1", false},
		{"127.0.0.1", true},
		{"127.8.9.10", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
	}
	for _, mode := range []string{modeDev, modeEasyAuth, modeJWT} {
		for _, c := range cases {
			t.Run(mode+"/"+c.bound, func(t *testing.T) {
				var fake *boundAs
				listenTCP := func(network, address string) (net.Listener, error) {
					if address != "localhost:0" {
						t.Errorf("listened on %q, want the name as configured", address)
					}
					ln, err := net.Listen(network, "127.0.0.1:0")
					if err != nil {
						return nil, err
					}
					fake = &boundAs{Listener: ln, addr: &net.TCPAddr{IP: net.ParseIP(c.bound), Port: 7071}}
					return fake, nil
				}
				ln, err := listen(config{Auth: authConfig{Mode: mode}, Listen: listenConfig{Host: "localhost", Port: "0"}}, listenTCP)
				want := c.loopback || mode == modeJWT
				if (err == nil) != want {
					t.Fatalf("err = %v, want accepted: %v", err, want)
				}
				if err != nil {
					if !strings.Contains(err.Error(), "loopback only") || !strings.Contains(err.Error(), "LISTEN_HOST=127.0.0.1") {
						t.Errorf("err = %v, want it to say loopback only and what to set", err)
					}
					if !fake.closed {
						t.Error("the refused listener was left open")
					}
					return
				}
				ln.Close()
			})
		}
	}
}

// TestListenLocalhost: on this machine "localhost" binds loopback, and
// dev mode takes it.
func TestListenLocalhost(t *testing.T) {
	ln, err := listen(config{Auth: authConfig{Mode: modeDev}, Listen: listenConfig{Host: "localhost", Port: "0"}}, net.Listen)
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
}

// TestServeTakenPort: a taken port names the setting and what usually
// holds 7071.
func TestServeTakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	e := devTestEnv(t)
	e["FUNCTIONS_CUSTOMHANDLER_PORT"] = port
	code, _, stderr := runMain(t, e)
	for _, want := range []string{"address already in use", "FUNCTIONS_CUSTOMHANDLER_PORT", "make dev and func start", "7071"} {
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr lacks %q: %s", code, want, stderr)
		}
	}
}

// TestHTTPErrorLogEscapes: net/http's error log reaches the JSON log with
// client text escaped and cut.
func TestHTTPErrorLogEscapes(t *testing.T) {
	var buf strings.Builder
	srv := newHTTPServer(nil, slog.New(slog.NewJSONHandler(&buf, nil)))
	srv.ErrorLog.Printf("http: bad request from %s", "1.2.3.4\u202egnp.exe\u2028\x1b[2J"+strings.Repeat("x", 2000))
	got := buf.String()
	for _, raw := range []string{"\u202e", "\u2028", "\x1b", `\u001b`} {
		if strings.Contains(got, raw) {
			t.Errorf("log line holds %q raw: %s", raw, got)
		}
	}
	if !strings.Contains(got, `"source":"net/http"`) || len(got) > 1024 {
		t.Errorf("log line not marked or not cut (%d bytes): %s", len(got), got)
	}
}
