package lifecycle

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/test/pgtest"
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
	superKey := tenancy.GenerateKey()
	p, status, stop := startWatched(t, superKey)

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
	wantPeak(t, status, statuses)
}

// TestHeadersOfAMegabyte: a request's line and headers are read and parsed
// before anything checks them; up to net/http's default of 1 MiB, 50
// requests of header lines, without any credential, took the process from
// 50 MB to 340 MB. Its peak resident memory must stay under maxRSS.
func TestHeadersOfAMegabyte(t *testing.T) {
	p, status, stop := startWatched(t, tenancy.GenerateKey())
	requests := map[string]string{
		"header lines": "GET /v1/accounts HTTP/1.1\r\nHost: leadr\r\n" + strings.Repeat("A:\r\n", megabyte/4) + "\r\n",
		"query string": "GET /v1/accounts?" + strings.Repeat("a&", megabyte/2) + " HTTP/1.1\r\nHost: leadr\r\n\r\n",
	}
	statuses := map[string]int{}
	var mu sync.Mutex
	for shape, request := range requests {
		var wg sync.WaitGroup
		for range concurrent {
			wg.Go(func() {
				outcome := "no answer"
				if conn, err := net.Dial("tcp", p.addr); err == nil {
					defer conn.Close()
					_, _ = io.WriteString(conn, request)
					if line, err := bufio.NewReader(conn).ReadString('\n'); err == nil {
						outcome = strings.TrimSpace(line)
					}
				}
				mu.Lock()
				statuses[shape+": "+outcome]++
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	stop()
	wantPeak(t, status, statuses)
}

// wantPeak checks the process's peak resident memory (VmHWM), and logs it
// with the answers the requests got.
func wantPeak(t *testing.T, status string, answers map[string]int) {
	t.Helper()
	peak := procStatus(t, status, "VmHWM")
	t.Logf("peak resident memory %d MiB; answers %v", peak>>20, answers)
	if peak > maxRSS {
		t.Fatalf("the process peaked at %d MiB resident, over %d MiB", peak>>20, maxRSS>>20)
	}
}

// startWatched starts the binary on SQLite, with the superadmin's key and
// no rate limit (one address sends it all: no limit may refuse a request
// before it is read, as none would refuse a botnet's), and watches it with
// watchRSS. It returns the process, the path of its status in /proc, and
// the function that stops watching.
func startWatched(t *testing.T, superKey string) (p *process, status string, stop func()) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		pgtest.Missing(t, "no /proc to read a process's memory from: the memory bound cannot be checked")
	}
	p = startBinary(t, buildBinary(t), []string{"LEADR_DATABASE_URL=sqlite:" + filepath.Join(t.TempDir(), "leadr.db"),
		"LEADR_SUPERADMIN_API_KEY=" + superKey, "LEADR_LOG_LEVEL=info",
		"LEADR_RATE_LIMIT_API_KEY=off", "LEADR_RATE_LIMIT_SESSION=off", "LEADR_RATE_LIMIT_CLIENT_IP=off"})
	status = fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid)
	return p, status, watchRSS(t, p, status)
}

// watchRSS kills the process once its resident memory passes maxRSS; the
// function it returns stops watching.
func watchRSS(t *testing.T, p *process, status string) (stop func()) {
	done := make(chan struct{})
	watched := make(chan struct{})
	killed := false
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
				killed = true
				return
			}
		}
	}()
	return func() {
		close(done)
		<-watched
		if killed {
			<-p.exited
			t.FailNow()
		}
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
