package lifecycle

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/test/harness"
	"github.com/leadr-oss/identity/test/pgtest"
)

const (
	// shutdownTimeout is LEADR_SHUTDOWN_TIMEOUT, far longer than any
	// request of the load takes.
	shutdownTimeout = 5 * time.Second
	// exitMargin is how much longer than shutdownTimeout the process may
	// take to exit: a generous bound, for "it does not hang".
	exitMargin = 15 * time.Second
	// The load: writers creating identities at full speed; writers whose
	// bodies, and readers whose request lines and headers, arrive in
	// pieces, and so are still arriving when the signal comes.
	fastWriters, slowWriters, slowReaders = 4, 2, 2
	slowPieces, slowPause                 = 6, 50 * time.Millisecond
	// The signal is sent once this many identities were acknowledged.
	ackedBeforeSignal = 50
)

// TestSIGTERMUnderLoad sends SIGTERM to the binary while identities are
// being created and listed. Every request that got an answer got a 2xx;
// every request written got an answer, unless its connection was never
// accepted (refused, or reset when the listener closed); every identity
// acknowledged is in the database afterwards, and none that the server
// did not read; the process exits 0 in time.
func TestSIGTERMUnderLoad(t *testing.T) {
	bin := buildBinary(t)
	t.Run("postgres", func(t *testing.T) { sigtermUnderLoad(t, bin, pgtest.FreshURL(t)) })
	t.Run("sqlite", func(t *testing.T) { sigtermUnderLoad(t, bin, "sqlite:"+filepath.Join(t.TempDir(), "leadr.db")) })
}

// buildBinary builds cmd/leadr. Without a go tool the test fails in CI and
// is skipped loudly elsewhere; a build that fails fails the test.
func buildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		msg := fmt.Sprintf("no go tool to build the binary with: %v", err)
		pgtest.Missing(t, msg)
	}
	root, err := exec.Command(goTool, "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("find the module: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "leadr")
	build := exec.Command(goTool, "build", "-o", bin, "./cmd/leadr")
	build.Dir = strings.TrimSpace(string(root))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func sigtermUnderLoad(t *testing.T, bin, dbURL string) {
	superKey := tenancy.GenerateKey()
	env := []string{"LEADR_DATABASE_URL=" + dbURL, "LEADR_SUPERADMIN_API_KEY=" + superKey,
		"LEADR_SHUTDOWN_TIMEOUT=" + shutdownTimeout.String(), "LEADR_LOG_LEVEL=info",
		// The load is one key's and one address's: no limit may refuse it.
		"LEADR_RATE_LIMIT_API_KEY=off", "LEADR_RATE_LIMIT_SESSION=off", "LEADR_RATE_LIMIT_CLIENT_IP=off", "LEADR_RATE_LIMIT_SIGN_UP=off"}
	if strings.HasPrefix(dbURL, "postgres") { // SQLite makes its key file beside the database
		env = append(env, "LEADR_ENCRYPTION_KEY="+harness.EncryptionKey)
	}
	p := startBinary(t, bin, env)
	admin := client.New(p.base, client.WithAPIKey(superKey))
	acc := harness.NewAccount(t, admin)
	user := harness.NewUser(t, admin, acc.ID)
	key := harness.NewAPIKey(t, admin, acc.ID, user.ID)
	tenant := client.New(p.base, client.WithAPIKey(key.Key))
	game := harness.NewGame(t, tenant, client.CreateGameRequest{})

	l := &load{addr: p.addr, key: key.Key, game: game.ID, p: p}
	l.run(t)
	select {
	case <-p.exited:
		if p.err != nil {
			t.Errorf("exit after SIGTERM: %v", p.err)
		}
	case <-time.After(time.Until(l.signalledAt().Add(shutdownTimeout + exitMargin))):
		t.Fatalf("the process did not exit within %s of SIGTERM", shutdownTimeout+exitMargin)
	}
	if strings.Contains(p.stderr(), "shutdown timeout reached") {
		t.Errorf("requests in flight did not finish within %s", shutdownTimeout)
	}

	handled := p.handled()
	created := map[string]string{} // external key → ID, acknowledged
	var unaccepted []string        // external keys of creates on connections never accepted
	var answers, refused, reset int
	for _, x := range l.exchanges() {
		switch {
		case x.status != 0:
			answers++
			if x.status/100 != 2 {
				t.Errorf("%s: %d %s", x, x.status, x.body)
			} else if x.externalKey != "" {
				var i client.Identity
				if err := json.Unmarshal(x.body, &i); err != nil || i.ExternalKey != x.externalKey {
					t.Errorf("%s: %d %s", x, x.status, x.body)
				}
				created[x.externalKey] = i.ID
			}
			continue
		case handled[x.rid] != 0:
			t.Errorf("%s: the server answered %d, the client got no answer: %v", x, handled[x.rid], x.err)
		case x.refused:
			refused++
		case x.unaccepted():
			reset++
			if x.externalKey != "" {
				unaccepted = append(unaccepted, x.externalKey)
			}
		default:
			t.Errorf("%s: written, then dropped without an answer (%s after SIGTERM): %v", x, x.at.Sub(l.signalledAt()), x.err)
		}
		// Only the signal closes the listener.
		if x.at.Before(l.signalledAt()) {
			t.Errorf("%s: no answer before SIGTERM was sent: %v", x, x.err)
		}
	}
	if !l.inFlightAnswered {
		t.Error("the request whose body was arriving when SIGTERM was sent got no 2xx")
	}
	if len(created) == 0 || refused == 0 {
		t.Fatalf("the load proves nothing: %d identities created, %d connections refused", len(created), refused)
	}
	t.Logf("%d answers, %d identities created; %d connections refused, %d reset before they were accepted", answers, len(created), refused, reset)

	// What was acknowledged is in the database, as a restart reads it;
	// what the server never read made nothing.
	p = startBinary(t, bin, env)
	stored := map[string]string{}
	for i, err := range client.New(p.base, client.WithAPIKey(key.Key)).Identities(t.Context(), client.ListIdentitiesParams{GameID: game.ID, Limit: 100}) {
		if err != nil {
			t.Fatal(err)
		}
		stored[i.ExternalKey] = i.ID
	}
	for k, id := range created {
		if stored[k] != id {
			t.Errorf("identity %s (%s) was acknowledged and is not in the database", id, k)
		}
	}
	for _, k := range unaccepted {
		if stored[k] != "" {
			t.Errorf("identity %s was created by a request on a connection that was reset unanswered", k)
		}
	}
	p.stop(t)
}

// exchange is one request of the load and what came of it.
type exchange struct {
	rid, what   string
	externalKey string // of the identity it creates, if it does
	refused     bool   // no connection: no listener, or reset before it was established
	// oneWrite: the request went in a single write right after the
	// connection was made, and writeFailed: that write failed.
	oneWrite, writeFailed bool
	status                int // 0: no answer
	body                  []byte
	err                   error
	at                    time.Time // when it ended
}

func (x exchange) String() string { return fmt.Sprintf("%s [%s]", x.what, x.rid) }

// unaccepted reports whether the connection was reset before the server
// accepted it: closing a listener resets the connections still waiting to
// be accepted. A request written at once cannot be on a connection the
// server accepted and then reset: the server reads it all before it closes
// (and then the client reads an end of file, not a reset).
func (x exchange) unaccepted() bool {
	return x.oneWrite && (x.writeFailed || errors.Is(x.err, syscall.ECONNRESET))
}

type load struct {
	addr, key, game string
	p               *process
	acked           atomic.Int64
	signal          sync.Once
	signalled       atomic.Pointer[time.Time]
	// inFlightAnswered: the request during which the signal was sent got
	// a 2xx.
	inFlightAnswered bool
	mu               sync.Mutex
	done             []exchange
}

func (l *load) signalledAt() time.Time {
	if at := l.signalled.Load(); at != nil {
		return *at
	}
	return time.Now()
}

func (l *load) exchanges() []exchange {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.done
}

// run drives the load until every worker found the listener closed. A
// slow writer sends SIGTERM halfway through one of its requests.
func (l *load) run(t *testing.T) {
	t.Helper()
	start := time.Now()
	var wg sync.WaitGroup
	worker := func(name string, next func(rid string, n int) exchange) {
		wg.Go(func() {
			for n := 0; ; n++ {
				if time.Since(start) > time.Minute {
					t.Errorf("%s: the listener still accepts connections a minute on", name)
					return
				}
				x := next(fmt.Sprintf("%s-%05d", name, n), n)
				l.mu.Lock()
				l.done = append(l.done, x)
				l.mu.Unlock()
				if x.refused {
					return
				}
			}
		})
	}
	create := func(name string, pieces int) func(string, int) exchange {
		return func(rid string, n int) exchange {
			ext := fmt.Sprintf("device-%s-%05d", name, n)
			body := fmt.Sprintf(`{"game_id":%q,"kind":"DEVICE","external_key":%q}`, l.game, ext)
			req := fmt.Sprintf("POST /v1/identities HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nleadr-api-key: %s\r\n"+
				"X-Request-ID: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", l.addr, l.key, rid, len(body), body)
			var sent bool
			var midway func()
			if pieces > 1 {
				midway = func() {
					if l.acked.Load() >= ackedBeforeSignal || time.Since(start) > 20*time.Second {
						l.signal.Do(func() {
							sent = true
							now := time.Now()
							l.signalled.Store(&now)
							if err := l.p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
								t.Errorf("SIGTERM: %v", err)
							}
						})
					}
				}
			}
			whole := len(req)
			if pieces > 1 {
				whole -= len(body)
			}
			x := send(l.addr, req, whole, pieces, midway)
			x.rid, x.what, x.externalKey = rid, "POST /v1/identities "+ext, ext
			if x.status/100 == 2 {
				l.acked.Add(1)
			}
			if sent {
				l.inFlightAnswered = x.status/100 == 2
			}
			return x
		}
	}
	for i := range fastWriters {
		name := fmt.Sprintf("fast%d", i)
		worker(name, create(name, 1))
	}
	for i := range slowWriters {
		name := fmt.Sprintf("slow%d", i)
		worker(name, create(name, slowPieces))
	}
	for i := range slowReaders {
		worker(fmt.Sprintf("read%d", i), func(rid string, _ int) exchange {
			req := fmt.Sprintf("GET /v1/identities?game_id=%s&limit=100&sort=display_name:asc,created_at:desc HTTP/1.1\r\n"+
				"Host: %s\r\nConnection: close\r\nleadr-api-key: %s\r\nX-Request-ID: %s\r\n\r\n", l.game, l.addr, l.key, rid)
			x := send(l.addr, req, 0, slowPieces, nil)
			x.rid, x.what = rid, "GET /v1/identities"
			return x
		})
	}
	wg.Wait()
	if l.signalled.Load() == nil {
		t.Fatal("the load ended before SIGTERM was sent")
	}
}

// send writes req on a connection of its own (so that a connection the
// server accepted carries exactly one request): its first whole bytes at
// once, the rest in pieces after a pause each, calling midway before the
// middle one. Then it reads the answer.
func send(addr, req string, whole, pieces int, midway func()) exchange {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		// Refused, or reset by the kernel while the handshake waited in
		// the backlog of a listener that closed: no request was sent, so
		// none was cut off.
		return exchange{refused: errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET), err: err, at: time.Now()}
	}
	defer conn.Close()
	// A generous bound: an answer that has not come by then never will.
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	x := exchange{oneWrite: whole == len(req)}
	if _, err := io.WriteString(conn, req[:whole]); err != nil {
		x.writeFailed, x.err, x.at = true, err, time.Now()
		return x
	}
	rest := req[whole:]
	size := (len(rest) + pieces - 1) / pieces
	for i := 0; len(rest) > 0; i++ {
		time.Sleep(slowPause)
		if i == pieces/2 && midway != nil {
			midway()
		}
		piece := rest[:min(size, len(rest))]
		if _, err := io.WriteString(conn, piece); err != nil {
			x.err, x.at = err, time.Now()
			return x
		}
		rest = rest[len(piece):]
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		x.err, x.at = err, time.Now()
		return x
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	x.at = time.Now()
	if err != nil { // cut off mid-flight: no answer
		x.err = err
		return x
	}
	x.status, x.body = resp.StatusCode, body
	return x
}

// process is the binary running.
type process struct {
	cmd        *exec.Cmd
	addr, base string
	mu         sync.Mutex
	log        strings.Builder
	exited     chan struct{}
	err        error // the exit's, once exited is closed
}

var listening = regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)

func startBinary(t *testing.T, bin string, env []string) *process {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LEADR_HTTP_ADDR=127.0.0.1:0"}, env...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("run the binary: %v", err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, pipe)
		p.err = cmd.Wait()
		close(p.exited)
	}()
	select {
	case p.addr = <-found:
		p.base = "http://" + p.addr
	case <-p.exited:
		t.Fatalf("the binary stopped at start: %v\n%s", p.err, p.stderr())
	case <-time.After(2 * time.Minute):
		t.Fatalf("the binary did not start:\n%s", p.stderr())
	}
	return p
}

func (p *process) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// handled returns the status of every request the access log names, by
// request ID: the requests the server read and answered.
func (p *process) handled() map[string]int {
	out := map[string]int{}
	for _, line := range strings.Split(p.stderr(), "\n") {
		var entry struct {
			Msg       string `json:"msg"`
			RequestID string `json:"request_id"`
			Status    int    `json:"status"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "request" {
			out[entry.RequestID] = entry.Status
		}
	}
	return out
}

func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
		if p.err != nil {
			t.Errorf("exit after SIGTERM: %v", p.err)
		}
	case <-time.After(shutdownTimeout + exitMargin):
		t.Fatal("the binary did not stop after SIGTERM")
	}
}
