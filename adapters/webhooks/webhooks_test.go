package webhooks_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/webhooks"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/webhook"
)

const (
	// token is in the query of every URL sent to: no Outcome.Error may
	// repeat it.
	token = "s3cr3t"
	// signature is a header value, which no Outcome.Error may repeat either.
	signature = "v1,c2lnbmF0dXJlLW5vdC10by1sZWFr"
)

var (
	publicV4 = netip.MustParseAddr("93.184.215.14")
	publicV6 = netip.MustParseAddr("2606:2800:21f:cb07:6820:80da:af6b:8b2c")
)

// resolver answers from a table; a host it does not know does not exist.
type resolver struct {
	answers map[string][]netip.Addr
	mu      sync.Mutex
	asked   []string
}

func (r *resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, host)
	// As DNS: names are case-insensitive, and a final dot is the root.
	addrs, ok := r.answers[strings.ToLower(strings.TrimSuffix(host, "."))]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return addrs, nil
}

func (r *resolver) questions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.asked...)
}

// rebinding answers a public address the first time it is asked and
// then the loopback: what an attacker's DNS does between the check of a
// URL and a delivery.
type rebinding struct{ asked atomic.Int32 }

func (r *rebinding) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	if r.asked.Add(1) == 1 {
		return []netip.Addr{publicV4}, nil
	}
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
}

func parseURL(t *testing.T, raw string) webhook.URL {
	t.Helper()
	u, err := webhook.ParseURL(raw)
	if err != nil {
		t.Fatalf("ParseURL(%q): %v", raw, err)
	}
	return u
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	const (
		notHTTPS  = "URL must be an https:// URL"
		notPublic = "URL must not point to a private or non-public address"
		unknown   = "URL's host does not resolve"
	)
	r := &resolver{answers: map[string][]netip.Addr{
		"hooks.example.com":   {publicV4},
		"v6.example.com":      {publicV6},
		"both.example.com":    {publicV4, publicV6},
		"internal.example":    {netip.MustParseAddr("10.1.2.3")},
		"mixed.example.com":   {publicV4, netip.MustParseAddr("127.0.0.1")},
		"mixed6.example.com":  {publicV6, netip.MustParseAddr("fd00::1")},
		"mapped.example.com":  {publicV4, netip.MustParseAddr("::ffff:169.254.169.254")},
		"nat64.example.com":   {netip.MustParseAddr("64:ff9b::a00:1")},
		"empty.example.com":   {},
		"localhost":           {publicV4}, // must not be asked
		"my.app.localhost":    {publicV4}, // must not be asked
		"metadata.example.io": {netip.MustParseAddr("169.254.169.254")},
	}}
	c := webhooks.New(webhooks.Config{Resolver: r})
	for _, tc := range []struct {
		url  string
		want string // "" passes
	}{
		{"https://hooks.example.com/in?token=s3cr3t", ""},
		{"https://v6.example.com:8443/in", ""},
		{"https://both.example.com/in", ""},
		{"https://HOOKS.example.com./in", ""},
		{"https://8.8.8.8/in", ""},
		{"https://[2606:4700:4700::1111]/in", ""},
		{"https://[::ffff:8.8.8.8]/in", ""},

		{"http://hooks.example.com/in", notHTTPS},
		{"http://8.8.8.8/in", notHTTPS},

		{"https://127.0.0.1/in", notPublic},
		{"https://127.0.0.1:8080/in", notPublic},
		{"https://10.0.0.1/in", notPublic},
		{"https://172.16.5.4/in", notPublic},
		{"https://192.168.0.1/in", notPublic},
		{"https://100.64.0.1/in", notPublic},
		{"https://169.254.169.254/latest/meta-data/", notPublic},
		{"https://0.0.0.0/in", notPublic},
		{"https://224.0.0.1/in", notPublic},
		{"https://255.255.255.255/in", notPublic},
		{"https://[::1]/in", notPublic},
		{"https://[::]/in", notPublic},
		{"https://[fe80::1%25eth0]/in", notPublic},
		{"https://[fe80::1]/in", notPublic},
		{"https://[fc00::1]/in", notPublic},
		{"https://[fd00::1]/in", notPublic},
		{"https://[ff02::1]/in", notPublic},
		{"https://[::ffff:127.0.0.1]/in", notPublic},
		{"https://[::ffff:10.0.0.1]/in", notPublic},
		{"https://[64:ff9b::7f00:1]/in", notPublic},
		{"https://[2002:a00:1::1]/in", notPublic},

		{"https://localhost/in", notPublic},
		{"https://LocalHost./in", notPublic},
		{"https://my.app.localhost/in", notPublic},
		{"https://internal.example/in", notPublic},
		{"https://metadata.example.io/in", notPublic},
		{"https://mixed.example.com/in", notPublic},
		{"https://mixed6.example.com/in", notPublic},
		{"https://mapped.example.com/in", notPublic},
		{"https://nat64.example.com/in", notPublic},

		{"https://nowhere.example.com/in", unknown},
		{"https://empty.example.com/in", unknown},
	} {
		err := c.CheckURL(t.Context(), parseURL(t, tc.url))
		if tc.want == "" {
			if err != nil {
				t.Errorf("CheckURL(%s) = %v, want nil", tc.url, err)
			}
			continue
		}
		var de *domain.Error
		if !errors.As(err, &de) || de.Category != domain.CategoryInvalid || de.Field != "url" || de.Message != tc.want || de.Input != tc.url {
			t.Errorf("CheckURL(%s) = %#v, want url: %q", tc.url, err, tc.want)
		}
	}
	for _, q := range r.questions() {
		if strings.HasSuffix(q, "localhost") {
			t.Errorf("the resolver was asked for %q: localhost names must be refused without a lookup", q)
		}
	}
}

func TestCheckURLAllowPrivate(t *testing.T) {
	t.Parallel()
	r := &resolver{}
	c := webhooks.New(webhooks.Config{AllowPrivate: true, Resolver: r})
	for _, raw := range []string{
		"http://127.0.0.1:8080/in",
		"http://localhost/in",
		"https://10.0.0.1/in",
		"https://[::1]/in",
		"http://receiver.internal/in", // unknown to the resolver: not asked at all
	} {
		if err := c.CheckURL(t.Context(), parseURL(t, raw)); err != nil {
			t.Errorf("CheckURL(%s) with AllowPrivate = %v, want nil", raw, err)
		}
	}
	if q := r.questions(); len(q) != 0 {
		t.Errorf("the resolver was asked %v; with AllowPrivate no lookup is needed", q)
	}
}

// TestCheckURLCancelled: a caller that gives up is told so, not that its
// URL does not resolve.
func TestCheckURLCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	c := webhooks.New(webhooks.Config{Resolver: &resolver{}})
	err := c.CheckURL(ctx, parseURL(t, "https://nowhere.example.com/in"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("CheckURL with a cancelled context = %v, want context.Canceled", err)
	}
}

// withToken is srvURL+path with the secret query every test sends.
func withToken(srvURL, path string) string {
	return srvURL + path + "?token=" + token
}

// send makes one attempt and checks that its error, if any, gives away
// neither the URL, its token, a header value nor the body.
func send(t *testing.T, c *webhooks.Client, rawURL string) webhook.Outcome {
	t.Helper()
	body := []byte(`{"type":"player.banned","secret_field":"body-must-not-leak"}`)
	o := c.Send(t.Context(), rawURL, map[string]string{"webhook-signature": signature}, body)
	for _, leak := range []string{token, rawURL, strings.SplitN(rawURL, "?", 2)[0], signature, "body-must-not-leak"} {
		if strings.Contains(o.Error, leak) {
			t.Errorf("Outcome.Error %q holds %q", o.Error, leak)
		}
	}
	if o.Duration <= 0 {
		t.Errorf("Outcome.Duration = %v, want the attempt's time", o.Duration)
	}
	return o
}

// hostPort is the port of srv on a name.
func hostPort(t *testing.T, name string, srv *httptest.Server) string {
	t.Helper()
	return net.JoinHostPort(name, strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port))
}

// countConns counts the connections srv accepts.
func countConns(srv *httptest.Server) *atomic.Int32 {
	var n atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	return &n
}

func TestSendDeliversHeadersAndBody(t *testing.T) {
	t.Parallel()
	type received struct {
		method, query, body string
		header              http.Header
	}
	got := make(chan received, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{method: r.Method, query: r.URL.RawQuery, body: string(b), header: r.Header.Clone()}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)

	c := webhooks.New(webhooks.Config{AllowPrivate: true})
	body := []byte(`{"type":"identity.created","timestamp":"2025-01-01T00:00:00Z","data":{}}`)
	header := map[string]string{"webhook-id": "evt_1", "webhook-timestamp": "1735689600", "webhook-signature": signature}
	o := c.Send(t.Context(), withToken(srv.URL, "/in"), header, body)
	if o.ResponseStatus != http.StatusNoContent || o.Error != "" || !o.Succeeded() {
		t.Fatalf("Send = %+v, want 204 without error", o)
	}
	r := <-got
	if r.method != http.MethodPost || r.body != string(body) || r.query != "token="+token {
		t.Errorf("the endpoint received %s ?%s %q, want POST ?token=%s %q", r.method, r.query, r.body, token, body)
	}
	for k, want := range map[string]string{
		"Content-Type": "application/json", "User-Agent": "LEADR-Webhooks/1",
		"Webhook-Id": "evt_1", "Webhook-Timestamp": "1735689600", "Webhook-Signature": signature,
	} {
		if v := r.header.Get(k); v != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
}

func TestSendTriesEachAddressInTurn(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(srv.Close)
	// The server listens on 127.0.0.1 only: the first address fails at
	// once (refused, or unavailable without IPv6), and the second answers.
	r := &resolver{answers: map[string][]netip.Addr{"receiver.internal": {
		netip.MustParseAddr("::1"), netip.MustParseAddr("127.0.0.1"),
	}}}
	c := webhooks.New(webhooks.Config{AllowPrivate: true, Resolver: r})
	o := send(t, c, withToken("http://"+hostPort(t, "receiver.internal", srv), "/in"))
	if o.ResponseStatus != http.StatusOK || o.Error != "" {
		t.Errorf("Send = %+v, want 200 from the second address", o)
	}
}

func TestSendFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	t.Cleanup(target.Close)
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, withToken(target.URL, "/elsewhere"), status)
		}))
		t.Cleanup(redirect.Close)

		c := webhooks.New(webhooks.Config{AllowPrivate: true})
		o := send(t, c, withToken(redirect.URL, "/in"))
		if o.ResponseStatus != status || o.Error != "" || o.Succeeded() {
			t.Errorf("Send to an endpoint answering %d = %+v, want that status as a failure", status, o)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the redirect's target received %d requests, want none", n)
	}
}

// TestSendReadsABoundedBody: an endpoint that streams an endless answer
// costs a few KiB; the connection is closed on it rather than drained.
func TestSendReadsABoundedBody(t *testing.T) {
	t.Parallel()
	const limit = 256 << 20
	stopped := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		chunk := make([]byte, 32<<10)
		var err error
		for written := 0; written < limit && err == nil; {
			var n int
			n, err = w.Write(chunk)
			written += n
		}
		stopped <- err
	}))
	t.Cleanup(srv.Close)

	c := webhooks.New(webhooks.Config{AllowPrivate: true})
	o := send(t, c, withToken(srv.URL, "/in"))
	if o.ResponseStatus != http.StatusAccepted || o.Error != "" {
		t.Errorf("Send = %+v, want 202", o)
	}
	if o.Duration > 2*time.Second {
		t.Errorf("Send took %v to read a bounded body", o.Duration)
	}
	select {
	case err := <-stopped:
		if err == nil {
			t.Errorf("the endpoint wrote all %d bytes: the answer was read to the end", limit)
		}
	case <-time.After(5 * time.Second):
		t.Error("the endpoint is still writing: the connection was not closed")
	}
}

func TestSendTimesOut(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		// Read to the end, so that the server notices the client hanging
		// up and cancels r's context.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)

	c := webhooks.New(webhooks.Config{AllowPrivate: true, Timeout: 300 * time.Millisecond})
	o := send(t, c, withToken(srv.URL, "/in"))
	if o.ResponseStatus != 0 || o.Error != "timed out after 300ms" {
		t.Errorf("Send = %+v, want no status and \"timed out after 300ms\"", o)
	}
	if o.Duration < 300*time.Millisecond || o.Duration > 2*time.Second {
		t.Errorf("Outcome.Duration = %v, want about the 300ms timeout", o.Duration)
	}
}

// TestSendRefusesDNSRebinding: a name that was public when its URL was
// checked and resolves to the loopback at delivery reaches nothing.
func TestSendRefusesDNSRebinding(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { requests.Add(1) }))
	conns := countConns(srv)
	srv.StartTLS()
	t.Cleanup(srv.Close)

	r := &rebinding{}
	c := webhooks.New(webhooks.Config{Resolver: r})
	u := parseURL(t, withToken("https://"+hostPort(t, "hooks.attacker.example", srv), "/in"))
	if err := c.CheckURL(t.Context(), u); err != nil {
		t.Fatalf("CheckURL while the name is public = %v, want nil", err)
	}
	o := send(t, c, u.String())
	if want := "address 127.0.0.1 is not allowed (LEADR_WEBHOOK_ALLOW_PRIVATE)"; o.ResponseStatus != 0 || o.Error != want {
		t.Errorf("Send after rebinding = %+v, want %q", o, want)
	}
	if n := r.asked.Load(); n != 2 {
		t.Errorf("the resolver was asked %d times, want 2 (check, then delivery)", n)
	}
	if n, m := conns.Load(), requests.Load(); n != 0 || m != 0 {
		t.Errorf("the loopback server accepted %d connections and %d requests, want none", n, m)
	}
}

// TestSendRefusesNonPublicAddresses: each attempt is judged on its own,
// whatever CheckURL said, for literal addresses and names alike.
func TestSendRefusesNonPublicAddresses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	conns := countConns(srv)
	srv.StartTLS()
	t.Cleanup(srv.Close)

	r := &resolver{answers: map[string][]netip.Addr{
		"localhost":          {netip.MustParseAddr("127.0.0.1")},
		"mapped.example.com": {netip.MustParseAddr("::ffff:127.0.0.1")},
		"v6.example.com":     {netip.MustParseAddr("::1")},
		"private.example":    {netip.MustParseAddr("10.0.0.1")},
		"metadata.example":   {netip.MustParseAddr("169.254.169.254")},
	}}
	c := webhooks.New(webhooks.Config{Resolver: r})
	for _, tc := range []struct{ host, refused string }{
		{"127.0.0.1", "127.0.0.1"},
		{"[::ffff:127.0.0.1]", "127.0.0.1"},
		{"localhost", "127.0.0.1"},
		{"mapped.example.com", "127.0.0.1"},
		{"v6.example.com", "::1"},
		{"private.example", "10.0.0.1"},
		{"metadata.example", "169.254.169.254"},
	} {
		port := strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)
		o := send(t, c, withToken("https://"+tc.host+":"+port, "/in"))
		if want := "address " + tc.refused + " is not allowed (LEADR_WEBHOOK_ALLOW_PRIVATE)"; o.ResponseStatus != 0 || o.Error != want {
			t.Errorf("Send to %s = %+v, want %q", tc.host, o, want)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("the loopback server accepted %d connections, want none", n)
	}
}

// TestSendFailures: every way an attempt gets no answer is said in a few
// words that are safe to store.
func TestSendFailures(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close() // nothing listens on its port any more
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)

	for _, tc := range []struct {
		name   string
		cfg    webhooks.Config
		url    string
		status int
		want   string
	}{
		{"refused", webhooks.Config{AllowPrivate: true}, withToken(closedURL, "/in"), 0, "connection refused"},
		{"untrusted certificate", webhooks.Config{AllowPrivate: true}, withToken(tlsSrv.URL, "/in"), 0,
			"TLS handshake failed: certificate signed by an unknown authority"},
		{"plain HTTP answer", webhooks.Config{AllowPrivate: true}, withToken("https://"+plain.Listener.Addr().String(), "/in"), 0,
			"TLS handshake failed: the endpoint answered plain HTTP"},
		{"not TLS", webhooks.Config{AllowPrivate: true}, withToken("https://"+notTLS(t), "/in"), 0,
			"TLS handshake failed: the endpoint does not speak TLS"},
		{"unknown host", webhooks.Config{AllowPrivate: true, Resolver: &resolver{}}, withToken("http://nowhere.example", "/in"), 0,
			"the host does not resolve"},
		{"plain http", webhooks.Config{}, withToken(plain.URL, "/in"), 0,
			"the URL is not https:// (LEADR_WEBHOOK_ALLOW_PRIVATE)"},
		{"answer", webhooks.Config{AllowPrivate: true}, withToken(plain.URL, "/in"), http.StatusNotFound, ""},
	} {
		o := send(t, webhooks.New(tc.cfg), tc.url)
		if o.ResponseStatus != tc.status || o.Error != tc.want {
			t.Errorf("%s: Send = %+v, want status %d and error %q", tc.name, o, tc.status, tc.want)
		}
	}
}

// notTLS is the address of a server that greets every connection in
// another protocol, and hangs up.
func notTLS(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = conn.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
			_ = conn.Close()
		}
	}()
	return ln.Addr().String()
}
