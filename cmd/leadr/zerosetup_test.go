package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
)

// TestZeroSetup runs the built binary as a newcomer would: in an empty
// folder, with no database configured. It must start on an SQLite file,
// keep the data across a SIGTERM and a restart, and print the bootstrap key
// only the first time. (Only the listening address is set, to a free port,
// so that the test never collides with another service on :8080.)
func TestZeroSetup(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "leadr")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()

	first := startBinary(t, bin, dir)
	if first.key == "" {
		t.Fatalf("the first start printed no superadmin key:\n%s", first.stderr())
	}
	if !strings.Contains(first.stderr(), "using SQLite at ./data/leadr.db") {
		t.Fatalf("no log line about the default database:\n%s", first.stderr())
	}
	admin := client.New(first.base, client.WithAPIKey(first.key))
	acc, err := admin.CreateAccount(t.Context(), client.CreateAccountRequest{Name: "Jam", Slug: "jam"})
	if err != nil {
		t.Fatal(err)
	}
	game, err := admin.CreateGame(t.Context(), client.CreateGameRequest{AccountID: acc.ID, Name: "Jam Game"})
	if err != nil {
		t.Fatal(err)
	}
	var made []string
	for _, key := range []string{"device-0001-jam", "device-0002-jam"} {
		i, _, err := admin.CreateIdentity(t.Context(), client.CreateIdentityRequest{AccountID: acc.ID,
			GameID: game.ID, Kind: client.KindDevice, ExternalKey: key})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, i.ID)
	}
	first.stop(t)
	if _, err := os.Stat(filepath.Join(dir, "data", "leadr.db")); err != nil {
		t.Fatalf("no database file: %v", err)
	}
	// The key its secrets are sealed under, beside it, for its owner only.
	keyFile := filepath.Join(dir, "data", "leadr.db.key")
	info, err := os.Stat(keyFile)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the key file: %v %v", info, err)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}

	second := startBinary(t, bin, dir)
	if second.key != "" {
		t.Fatal("a restart printed another superadmin key")
	}
	admin = client.New(second.base, client.WithAPIKey(first.key))
	if g, err := admin.GetGame(t.Context(), game.ID); err != nil || g.Slug != game.Slug {
		t.Fatalf("game %s after a restart: %+v %v", game.ID, g, err)
	}
	for _, id := range made {
		if _, err := admin.GetIdentity(t.Context(), id); err != nil {
			t.Fatalf("identity %s after a restart: %v", id, err)
		}
	}
	// Its identities can still be made after a restart: the game is live.
	if _, created, err := admin.CreateIdentity(t.Context(), client.CreateIdentityRequest{AccountID: acc.ID,
		GameID: game.ID, Kind: client.KindDevice, ExternalKey: "device-0003-jam"}); err != nil || !created {
		t.Fatalf("an identity after a restart: created=%v %v", created, err)
	}
	second.stop(t)
	if again, err := os.ReadFile(keyFile); err != nil || !bytes.Equal(again, key) {
		t.Fatalf("the key file after a restart: changed, or %v", err)
	}
}

type process struct {
	cmd  *exec.Cmd
	base string
	key  string
	mu   sync.Mutex
	log  strings.Builder
	done chan error
}

func (p *process) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

var (
	listening = regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)
	bootKey   = regexp.MustCompile(`ldr_[A-Za-z0-9_-]{43}`)
)

func startBinary(t *testing.T, bin, dir string) *process {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LEADR_HTTP_ADDR=127.0.0.1:0"}
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan error, 1)}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			if m := listening.FindStringSubmatch(line); m != nil {
				found <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, pipe)
		p.done <- cmd.Wait()
	}()
	select {
	case addr := <-found:
		p.base = "http://" + addr
	case <-time.After(time.Minute):
		t.Fatalf("the binary did not start:\n%s", p.stderr())
	}
	p.key = bootKey.FindString(p.stderr())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := client.New(p.base).Health(ctx); err != nil {
		t.Fatalf("health: %v", err)
	}
	return p
}

func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the binary did not stop after SIGTERM")
	}
}
