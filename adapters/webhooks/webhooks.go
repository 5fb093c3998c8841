// Package webhooks sends webhook deliveries and checks endpoint URLs,
// guarding against server-side request forgery: an endpoint is a URL
// that a tenant chose, and without a guard the service would POST to
// whatever that URL reaches from inside the deployment (a metadata
// service, a database's HTTP port, an admin listener).
//
// Unless private addresses are allowed (LEADR_WEBHOOK_ALLOW_PRIVATE),
// URLs must be https:// and must reach public addresses only. CheckURL
// judges a URL when it is set; Send judges each attempt again, on the
// address actually dialled: the dialer's Control hook sees the socket's
// destination after resolution, so a name that resolved to a public
// address at creation and resolves to a private one now (DNS rebinding)
// reaches nothing. No redirect is followed, and no proxy from the
// environment is used, as both would move the request to an address
// that was never judged.
//
// An attempt's error never holds the URL (its query may hold a token), a
// header or the body: net/http's errors quote the URL, so they are
// classified here and dropped rather than wrapped.
package webhooks

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/webhook"
	"github.com/leadr-oss/identity/ports"
)

const (
	userAgent = "LEADR-Webhooks/1"
	// maxBody is what is read of an answer: only its status matters, and
	// reading a little lets a short answer's connection be reused, while
	// an endpoint that streams megabytes costs us no more than this.
	maxBody = 4 << 10
	// maxHeader bounds an answer's headers in the same spirit.
	maxHeader = 64 << 10
	// resolveTimeout bounds CheckURL's lookup, which a request waits for.
	resolveTimeout = 5 * time.Second
	// connectTimeout bounds the connection to one address, so that a dead
	// address of several leaves time for the next.
	connectTimeout = 5 * time.Second
	// tlsTimeout bounds the TLS handshake within the attempt's time.
	tlsTimeout = 10 * time.Second
	// maxConnsPerHost keeps one endpoint from taking more than a few
	// sockets, however many of its deliveries are due.
	maxConnsPerHost = 8
)

// Resolver looks host names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Config is the deployment's webhook policy.
type Config struct {
	// AllowPrivate lifts both rules, https:// only and public addresses
	// only, for tests and private networks.
	AllowPrivate bool
	// Resolver looks endpoints up; nil is net.DefaultResolver.
	Resolver Resolver
	// Timeout bounds an attempt, from the lookup to the end of the
	// answer's body; zero or less is webhook.AttemptTimeout.
	Timeout time.Duration
}

// Client implements ports.WebhookURLs and ports.WebhookSender. One Client
// keeps one pool of connections, so that deliveries to an endpoint reuse
// them.
type Client struct {
	allowPrivate bool
	resolver     Resolver
	timeout      time.Duration
	dialer       *net.Dialer
	http         *http.Client
}

var (
	_ ports.WebhookURLs   = (*Client)(nil)
	_ ports.WebhookSender = (*Client)(nil)
)

// New returns a Client with the policy of cfg.
func New(cfg Config) *Client {
	c := &Client{allowPrivate: cfg.AllowPrivate, resolver: cfg.Resolver, timeout: cfg.Timeout}
	if c.resolver == nil {
		c.resolver = net.DefaultResolver
	}
	if c.timeout <= 0 {
		c.timeout = webhook.AttemptTimeout
	}
	c.dialer = &net.Dialer{Timeout: connectTimeout}
	if !c.allowPrivate {
		c.dialer.Control = refuseNonPublic
	}
	transport := &http.Transport{
		// A proxy would be the address dialled, and it would reach the
		// endpoint's without our judging it.
		Proxy:                  nil,
		DialContext:            c.dial,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    min(tlsTimeout, c.timeout),
		ResponseHeaderTimeout:  c.timeout,
		MaxResponseHeaderBytes: maxHeader,
		// Only the status matters: a compressed body is work for nothing.
		DisableCompression:  true,
		MaxConnsPerHost:     maxConnsPerHost,
		MaxIdleConns:        100,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
	}
	c.http = &http.Client{
		Transport: transport,
		// A 3xx is the endpoint's answer, and not a success: following it
		// would send the delivery to a URL nobody checked.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// What CheckURL tells the caller.
const (
	msgNotHTTPS    = "URL must be an https:// URL"
	msgNotPublic   = "URL must not point to a private or non-public address"
	msgNoAddresses = "URL's host does not resolve"
)

// CheckURL answers a domain error of "url" when u is not https:// or its
// host is, or resolves to, any address that is not Public; with
// AllowPrivate, every URL webhook.ParseURL accepted passes.
func (c *Client) CheckURL(ctx context.Context, u webhook.URL) error {
	if c.allowPrivate {
		return nil
	}
	reject := func(message string) error { return domain.Rejected("url", message, u.String()) }
	parsed, err := url.Parse(u.String())
	if err != nil || parsed.Scheme != "https" {
		return reject(msgNotHTTPS)
	}
	host := parsed.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		if !Public(a) {
			return reject(msgNotPublic)
		}
		return nil
	}
	// Resolvers answer these with the loopback without asking DNS
	// (RFC 6761), whatever the DNS would say.
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "localhost" || strings.HasSuffix(name, ".localhost") || numericHost(name) {
		return reject(msgNotPublic)
	}
	lookup, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := c.resolver.LookupNetIP(lookup, "ip", host)
	if err != nil || len(addrs) == 0 {
		// The caller giving up is no fault of the URL's.
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return reject(msgNoAddresses)
	}
	// Every address, not just one: which of them a delivery dials is the
	// resolver's and the network's choice.
	for _, a := range addrs {
		if !Public(a) {
			return reject(msgNotPublic)
		}
	}
	return nil
}

// numericHost reports a name whose last label is a number ("2130706433",
// "0x7f.1", "127.1"): no top-level domain is one, and C resolvers read such
// names as IPv4 addresses in forms netip does not parse, so what address
// they mean is not this package's to judge.
func numericHost(name string) bool {
	last := name[strings.LastIndex(name, ".")+1:]
	if hex, ok := strings.CutPrefix(last, "0x"); ok {
		last = hex
	}
	return last != "" && strings.Trim(last, "0123456789abcdef") == "" && strings.ContainsAny(last, "0123456789")
}

// Send POSTs body to rawURL with header, as JSON, and says what came of
// it: the status of the answer, or why none came.
func (c *Client) Send(ctx context.Context, rawURL string, header map[string]string, body []byte) webhook.Outcome {
	start := time.Now()
	budget := c.timeout
	if deadline, ok := ctx.Deadline(); ok {
		budget = max(0, min(budget, time.Until(deadline)))
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	status, err := c.send(ctx, rawURL, header, body)
	o := webhook.Outcome{ResponseStatus: status, Duration: time.Since(start)}
	if err != nil {
		o.Error = describe(ctx, budget, err)
	}
	return o
}

func (c *Client) send(ctx context.Context, rawURL string, header map[string]string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return 0, errBadURL
	}
	// The scheme is judged at each attempt as the address is: a URL
	// stored while private endpoints were allowed is not sent in the
	// clear once they are not.
	if !c.allowPrivate && req.URL.Scheme != "https" {
		return 0, errPlainHTTP
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)

	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	// Closing after a bounded read, without draining the rest, drops the
	// connection of an endpoint that sends more: that is the point.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// dial connects to one of the addresses of address's host, in the order
// the resolver gave them; the dialer's Control hook judges each.
func (c *Client) dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, err
	}
	addrs, err := c.lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	var first error
	for _, a := range addrs {
		conn, err := c.dialer.DialContext(ctx, network, netip.AddrPortFrom(a.Unmap(), uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

func (c *Client) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	addrs, err := c.resolver.LookupNetIP(ctx, "ip", host)
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil || len(addrs) == 0:
		// The resolver's error names the host: it is not kept.
		return nil, errUnresolved
	}
	return addrs, nil
}

// refuseNonPublic is the dialer's Control hook: it runs on the socket's
// destination, after every lookup, just before connect, so it is the one
// judgement that DNS rebinding, a resolver's odd answer or an IPv4-mapped
// form cannot get around.
func refuseNonPublic(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return errUnjudged
	}
	if !Public(ap.Addr()) {
		return &notAllowedError{addr: ap.Addr().Unmap()}
	}
	return nil
}

// notAllowedError is an address the policy refuses. It names the address,
// which the operator needs and which is no secret, but not the URL.
type notAllowedError struct{ addr netip.Addr }

func (e *notAllowedError) Error() string {
	return "address " + e.addr.String() + " is not allowed (LEADR_WEBHOOK_ALLOW_PRIVATE)"
}

// The errors of an attempt without an answer: their texts are what
// Outcome.Error says.
var (
	errBadURL     = errors.New("the URL is not valid")
	errPlainHTTP  = errors.New("the URL is not https:// (LEADR_WEBHOOK_ALLOW_PRIVATE)")
	errUnresolved = errors.New("the host does not resolve")
	errUnjudged   = errors.New("the address dialled could not be judged")
)

// describe says why an attempt got no answer, in words that are safe to
// store and show: never err's text, which may quote the URL (*url.Error
// does), only what is learnt from its types.
func describe(ctx context.Context, budget time.Duration, err error) string {
	// The transport's own timers may fire at the attempt's deadline a
	// moment before the context records it: past the deadline, it is the
	// deadline that stopped the attempt.
	deadline, ok := ctx.Deadline()
	switch ctxErr := ctx.Err(); {
	case errors.Is(ctxErr, context.DeadlineExceeded), ok && !time.Now().Before(deadline):
		return "timed out after " + budget.Round(time.Millisecond).String()
	case errors.Is(ctxErr, context.Canceled):
		return "cancelled before an answer came"
	}
	for _, own := range []error{errBadURL, errPlainHTTP, errUnresolved, errUnjudged} {
		if errors.Is(err, own) {
			return own.Error()
		}
	}
	var (
		refused  *notAllowedError
		verify   *tls.CertificateVerificationError
		alert    tls.AlertError
		record   tls.RecordHeaderError
		netError net.Error
	)
	switch {
	case errors.As(err, &refused):
		return refused.Error()
	case errors.As(err, &verify):
		return "TLS handshake failed: " + certificateProblem(verify.Err)
	case errors.As(err, &alert):
		return "TLS handshake failed: the endpoint sent the alert " + strings.TrimPrefix(alert.Error(), "tls: ")
	case errors.Is(err, http.ErrSchemeMismatch):
		return "TLS handshake failed: the endpoint answered plain HTTP"
	case errors.As(err, &record):
		return "TLS handshake failed: the endpoint does not speak TLS"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by the endpoint"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to the endpoint"
	case errors.As(err, &netError) && netError.Timeout():
		return "timed out before an answer came"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection closed before an answer came"
	}
	return "the request failed without an answer"
}

// certificateProblem names what is wrong with the endpoint's certificate
// without x509's texts, which quote the host names.
func certificateProblem(err error) string {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &unknown):
		return "certificate signed by an unknown authority"
	case errors.As(err, &hostname):
		return "certificate is not valid for the host"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return "certificate expired or not yet valid"
	}
	return "certificate not valid"
}
