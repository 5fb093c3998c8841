package leadrcontainer

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// HAProxyStatsPort is where a configuration such as build/ha/haproxy.cfg
// serves HAProxy's statistics (/stats;csv).
const HAProxyStatsPort = "8404/tcp"

// RunHAProxyWith starts HAProxy from image with the configuration cfg,
// which must bind :8080 with monitor-uri /haproxy-alive and may serve its
// statistics on :8404 at /stats (for Servers), as build/ha/haproxy.cfg
// does. opts customise its container (a network, typically).
func RunHAProxyWith(ctx context.Context, image string, cfg []byte, opts ...testcontainers.ContainerCustomizer) (*HAProxy, error) {
	all := []testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts(HAProxyPort, HAProxyStatsPort),
		testcontainers.WithFiles(testcontainers.ContainerFile{Reader: bytes.NewReader(cfg),
			ContainerFilePath: "/usr/local/etc/haproxy/haproxy.cfg", FileMode: 0o644}),
		testcontainers.WithWaitStrategyAndDeadline(time.Minute, wait.ForHTTP(haproxyAlive).WithPort(HAProxyPort)),
		WithRunLabel(),
	}
	ctr, err := testcontainers.Run(ctx, image, append(all, opts...)...)
	var h *HAProxy
	if ctr != nil {
		h = &HAProxy{Container: ctr}
	}
	if err != nil {
		return h, fmt.Errorf("run HAProxy: %w", err)
	}
	return h, nil
}

// Servers returns the state HAProxy has of each server of backend, by
// name: the columns of its CSV statistics (status: UP, DOWN, MAINT…;
// stot: sessions served; …). It needs the statistics of RunHAProxyWith.
func (h *HAProxy) Servers(ctx context.Context, backend string) (map[string]map[string]string, error) {
	base, err := h.PortEndpoint(ctx, HAProxyStatsPort, "http")
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/stats;csv", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HAProxy's statistics: %s", resp.Status)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("HAProxy's statistics: %v", err)
	}
	header := rows[0]
	header[0] = strings.TrimPrefix(header[0], "# ")
	servers := map[string]map[string]string{}
	for _, r := range rows[1:] {
		row := map[string]string{}
		for i, col := range header {
			if i < len(r) {
				row[col] = r[i]
			}
		}
		if row["pxname"] == backend && row["svname"] != "BACKEND" && row["svname"] != "FRONTEND" {
			servers[row["svname"]] = row
		}
	}
	return servers, nil
}
