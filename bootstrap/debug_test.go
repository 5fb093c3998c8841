package bootstrap_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestDebugListenerServesProfilesOffThePublicPort: profiles are on
// LEADR_DEBUG_ADDR only, never on the API's port; the metrics are there
// too when LEADR_METRICS_ADDR is not set.
func TestDebugListenerServesProfilesOffThePublicPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := start(t, sqliteURL(t), map[string]string{"LEADR_DEBUG_ADDR": addr})
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if status, body := get("http://" + addr + "/debug/pprof/goroutine?debug=1"); status != http.StatusOK || !strings.Contains(body, "goroutine profile:") {
		t.Errorf("debug listener: %d %.80s", status, body)
	}
	if status, body := get("http://" + addr + "/metrics"); status != http.StatusOK || !strings.Contains(body, "leadr_build_info") {
		t.Errorf("debug listener's metrics: %d %.80s", status, body)
	}
	for _, path := range []string{"/debug/pprof/goroutine?debug=1", "/metrics"} {
		if status, _ := get(r.base + path); status != http.StatusNotFound {
			t.Errorf("the public port answers %s: %d", path, status)
		}
	}
}
