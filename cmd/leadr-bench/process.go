package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// process is a child the bench started and must stop.
type process struct {
	name string
	cmd  *exec.Cmd
	// stopSignal asks it to shut down cleanly.
	stopSignal syscall.Signal
	exited     chan struct{}
	err        error // once exited is closed
}

// startProcess runs cmd as a child that dies with the bench: in a process
// group of its own, so that a Ctrl-C reaches the bench alone and the bench
// stops its children in order, and with a parent-death signal, so that a
// bench that is killed leaves no process behind.
func startProcess(name string, cmd *exec.Cmd, stopSignal syscall.Signal) (*process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, stopSignal: stopSignal, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// stopTimeout bounds a clean shutdown; the service's own default is 15s
// for requests in flight, and by now there are none.
const stopTimeout = 20 * time.Second

func (p *process) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(p.stopSignal)
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// prefixed passes a child's output on to w line by line, each line
// prefixed with the child's name, so that its warnings stay readable among
// the bench's own lines.
type prefixed struct {
	name    string
	w       io.Writer
	partial []byte
}

func (p *prefixed) Write(b []byte) (int, error) {
	n := len(b)
	for {
		line, rest, ok := bytes.Cut(b, []byte("\n"))
		if !ok {
			p.partial = append(p.partial, b...)
			return n, nil
		}
		fmt.Fprintf(p.w, "%s: %s%s\n", p.name, p.partial, line)
		p.partial, b = p.partial[:0], rest
	}
}

// freeAddr finds a loopback address nothing listens on. Another process
// could take it before the child does; on this machine nothing races for
// ports, and a child that cannot listen fails loudly.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// childEnv is the bench's environment without LEADR_* variables, so that
// the children see only the settings the bench gives them, plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LEADR_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// readyTimeout covers the service's start: connecting and migrating.
const readyTimeout = 2 * time.Minute

// waitReady polls url until it answers 200, the process exits, or time
// runs out.
func (p *process) waitReady(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before it was ready: %v", p.name, p.err)
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s not ready at %s after %s", p.name, url, readyTimeout)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}
