package lifecycle

import (
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/tenancy"
)

// TestDrainBeforeStopping: from SIGTERM, readiness answers 503 for
// LEADR_SHUTDOWN_DRAIN while every other request is still served, so that
// a load balancer stops sending before the listener closes.
func TestDrainBeforeStopping(t *testing.T) {
	bin := buildBinary(t)
	const drain = 3 * time.Second
	key := tenancy.GenerateKey()
	p := startBinary(t, bin, []string{"LEADR_DATABASE_URL=sqlite:" + filepath.Join(t.TempDir(), "leadr.db"),
		"LEADR_SUPERADMIN_API_KEY=" + key, "LEADR_SHUTDOWN_DRAIN=" + drain.String(), "LEADR_LOG_LEVEL=info"})
	get := func(path string) int {
		req, _ := http.NewRequest("GET", p.base+path, nil)
		req.Header.Set("leadr-api-key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get("/v1/health/ready"); s != http.StatusOK {
		t.Fatalf("readiness before SIGTERM: %d", s)
	}
	signalled := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for get("/v1/health/ready") != http.StatusServiceUnavailable {
		if time.Since(signalled) > drain/2 {
			t.Fatal("readiness still answers 200 well into the drain")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Still serving what it is sent.
	if s := get("/v1/accounts"); s != http.StatusOK {
		t.Fatalf("a request during the drain: %d", s)
	}
	select {
	case <-p.exited:
		if took := time.Since(signalled); took < drain {
			t.Errorf("stopped %s after SIGTERM, before the %s drain was over", took, drain)
		}
		if p.err != nil {
			t.Errorf("exit: %v", p.err)
		}
	case <-time.After(drain + shutdownTimeout + exitMargin):
		t.Fatal("the binary did not stop")
	}
}
