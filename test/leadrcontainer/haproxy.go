package leadrcontainer

import (
	"context"
	"fmt"
	"strings"

	"github.com/testcontainers/testcontainers-go"
)

// EnvHAProxyImage names the HAProxy image: the official haproxy:2.6, or
// the one scripts/test-images.sh builds where no registry serves it.
const EnvHAProxyImage = "LEADR_TEST_HAPROXY_IMAGE"

// HAProxyPort is the balancer's port inside its container.
const HAProxyPort = "8080/tcp"

// haproxyAlive is the balancer's own URL, which answers 200 while it runs.
const haproxyAlive = "/haproxy-alive"

// HAProxy is a running HAProxy balancing HTTP across service replicas.
type HAProxy struct {
	testcontainers.Container
}

// RunHAProxy starts HAProxy from image, balancing requests round robin
// across backends (host:port as HAProxy reaches them), each checked on its
// readiness (/v1/health/ready) every second: one that fails twice, a
// replica draining after SIGTERM, gets no more requests until it answers
// again. Readiness does not ask the database, so that a database down
// leaves every replica in, answering its own 503s. opts customise its
// container (a network, typically).
func RunHAProxy(ctx context.Context, image string, backends []string, opts ...testcontainers.ContainerCustomizer) (*HAProxy, error) {
	var servers strings.Builder
	for i, b := range backends {
		fmt.Fprintf(&servers, "  server leadr%d %s check inter 1s fall 2 rise 1\n", i+1, b)
	}
	cfg := fmt.Sprintf(`global
  maxconn 4000

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s

frontend http
  bind :8080
  monitor-uri %s
  default_backend leadr

backend leadr
  balance roundrobin
  option httpchk GET /v1/health/ready
  http-check expect status 200
%s`, haproxyAlive, servers.String())
	return RunHAProxyWith(ctx, image, []byte(cfg), opts...)
}

// BaseURL is the balancer's address as the host sees it, e.g.
// http://localhost:32771.
func (h *HAProxy) BaseURL(ctx context.Context) (string, error) {
	return h.PortEndpoint(ctx, HAProxyPort, "http")
}
