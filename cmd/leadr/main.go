// Command leadr runs the LEADR identity service.
//
//	leadr serve                  run the HTTP API
//	leadr migrate up|down|status manage the database schema
//	leadr superadmin reset       print a fresh superadmin key (the break-glass)
//	leadr keys rotate|revoke KID|list  manage the keys that sign access tokens
//	leadr version                print the version
//	leadr healthcheck            exit 0 when the local server answers /v1/health/live
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"go.uber.org/fx"

	"github.com/leadr-oss/identity/bootstrap"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

const usage = `usage:
  leadr serve                   run the HTTP API
  leadr migrate up|down|status  apply, roll back (last group) or list migrations
  leadr superadmin reset        when no superadmin key works any more: print a fresh one
                                (run it on the host, with the service's configuration)
  leadr keys rotate|revoke KID|list
                                the keys that sign access tokens: rotate publishes the next
                                one now (it signs 6 minutes later, once every verifier's
                                cached JWKS has it); revoke unpublishes one at once (its
                                tokens are refused, clients refresh); list shows their state
  leadr version                 print the version
  leadr healthcheck             exit 0 when the server on LEADR_HTTP_ADDR answers /v1/health/live

Configuration comes from LEADR_* environment variables; see the README.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "leadr", Version())
		return 0
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	case "healthcheck":
		if err := healthcheck(os.Getenv("LEADR_HTTP_ADDR")); err != nil {
			fmt.Fprintln(stderr, "unhealthy:", err)
			return 1
		}
		return 0
	case "serve", "migrate", "superadmin", "keys":
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
		return 2
	}

	cfg, err := bootstrap.LoadConfig()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	cfg.Version = Version()
	if args[0] == "migrate" {
		if len(args) != 2 {
			fmt.Fprint(stderr, usage)
			return 2
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := bootstrap.Migrate(ctx, cfg, args[1], stdout); err != nil {
			fmt.Fprintln(stderr, "migrate:", err)
			return 1
		}
		return 0
	}

	if args[0] == "superadmin" {
		if len(args) != 2 || args[1] != "reset" {
			fmt.Fprint(stderr, usage)
			return 2
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := bootstrap.SuperadminReset(ctx, cfg, stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "superadmin reset:", err)
			return 1
		}
		return 0
	}

	if args[0] == "keys" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := bootstrap.Keys(ctx, cfg, args[1:], stdout, stderr); errors.Is(err, bootstrap.ErrKeysUsage) {
			fmt.Fprintln(stderr, err)
			return 2
		} else if err != nil {
			fmt.Fprintln(stderr, "keys:", err)
			return 1
		}
		return 0
	}

	app := fx.New(bootstrap.Service(cfg, stderr))
	if err := app.Err(); err != nil {
		fmt.Fprintln(stderr, "start:", err)
		return 1
	}
	// Run starts the app, waits for SIGINT or SIGTERM and stops it.
	app.Run()
	return 0
}

// Version is the build's version: the one set at link time, else the
// module's, else "devel".
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// healthcheck asks the server listening on addr (LEADR_HTTP_ADDR; default
// :8080) whether it is live. Images have no curl; the binary checks itself.
func healthcheck(addr string) error {
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	client := http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://" + net.JoinHostPort(host, port) + "/v1/health/live")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
