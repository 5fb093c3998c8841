package lifecycle

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/tenancy"
)

const (
	// maxRSS is the most memory the process may hold at its peak while
	// refusing the bodies below; it idles at about 50 MiB.
	maxRSS = 150 << 20
	// concurrent requests of each body to each endpoint.
	concurrent = 50
	megabyte   = 1 << 20
)

// TestBodiesOfAMegabyte is finding 2 of issue 17: bodies of a megabyte
// sent without any credential, 50 at a time, to sign-in and to an admin
// endpoint with a wrong key, took the process from 50 MB to gigabytes,
// since each body was decoded whole into a tree 35 times its size before
// anything was checked. The same bodies with a valid key are read, and the
// budget of bodies in flight bounds them. The process's peak resident
// memory (VmHWM) must stay under maxRSS. A watcher stops the process as soon as it passes the
// mark, so that the code before the fix fails the test without taking the
// machine down with it.
func TestBodiesOfAMegabyte(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc to read a process's memory from")
	}
	bin := buildBinary(t)
	superKey := tenancy.GenerateKey()
	p := startBinary(t, bin, []string{"LEADR_DATABASE_URL=sqlite:" + filepath.Join(t.TempDir(), "leadr.db"),
		"LEADR_SUPERADMIN_API_KEY=" + superKey, "LEADR_LOG_LEVEL=info",
		// One address sends it all: no limit may refuse it before its
		// body is read, as it would not refuse a botnet's.
		"LEADR_RATE_LIMIT_API_KEY=off", "LEADR_RATE_LIMIT_SESSION=off", "LEADR_RATE_LIMIT_CLIENT_IP=off"})
	status := fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid)
	stop := watchRSS(t, p, status)

	bodies := map[string][]byte{
		"zeros":  []byte(`{"x":[` + strings.Repeat("0,", megabyte/2-8) + `0]}`),
		"string": []byte(`{"x":"` + strings.Repeat("x", megabyte-8) + `"}`),
	}
	targets := []struct{ name, path, key string }{
		{"sign-in", "/v1/client/sessions", ""},
		{"admin, wrong key", "/v1/accounts", "not-a-key"},
		// With the key, the bodies are read: the budget of bodies in
		// flight bounds what they take.
		{"admin, superadmin's key", "/v1/accounts", superKey},
	}
	statuses := map[string]int{}
	var mu sync.Mutex
	for _, target := range targets {
		for shape, body := range bodies {
			var wg sync.WaitGroup
			for i := range concurrent {
				wg.Go(func() {
					// Half declare their length, half send it chunked, as
					// a body that does not say how long it is.
					var rd io.Reader = bytes.NewReader(body)
					if i%2 == 1 {
						rd = io.MultiReader(rd)
					}
					req, _ := http.NewRequest("POST", p.base+target.path, rd)
					req.Header.Set("Content-Type", "application/json")
					if target.key != "" {
						req.Header.Set("leadr-api-key", target.key)
					}
					outcome := "no answer"
					if resp, err := http.DefaultClient.Do(req); err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						outcome = strconv.Itoa(resp.StatusCode)
					}
					mu.Lock()
					statuses[target.name+", "+shape+": "+outcome]++
					mu.Unlock()
				})
			}
			wg.Wait()
		}
	}
	stop()
	peak := procStatus(t, status, "VmHWM")
	t.Logf("peak resident memory %d MiB; answers %v", peak>>20, statuses)
	if peak > maxRSS {
		t.Fatalf("the process peaked at %d MiB resident, over %d MiB", peak>>20, maxRSS>>20)
	}
}

// watchRSS kills the process once its resident memory passes maxRSS; the
// function it returns stops watching.
func watchRSS(t *testing.T, p *process, status string) (stop func()) {
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-done:
				return
			case <-p.exited:
				return
			case <-time.After(5 * time.Millisecond):
			}
			if rss, err := readStatus(status, "VmRSS"); err == nil && rss > maxRSS {
				t.Errorf("the process passed %d MiB resident (%d MiB): stopped", maxRSS>>20, rss>>20)
				_ = p.cmd.Process.Kill()
				return
			}
		}
	}()
	return func() {
		close(done)
		<-watched
		select {
		case <-p.exited:
			t.Fatalf("the process stopped: %v\n%s", p.err, p.stderr())
		default:
		}
	}
}

// procStatus reads a field of /proc/<pid>/status in bytes.
func procStatus(t *testing.T, status, field string) int64 {
	t.Helper()
	v, err := readStatus(status, field)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func readStatus(status, field string) (int64, error) {
	raw, err := os.ReadFile(status)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(raw)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in %s", field, status)
}
