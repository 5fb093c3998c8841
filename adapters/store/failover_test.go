package store_test

import (
	"context"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/test/pgtest"
)

// TestAFirstHostThatNeverAnswersIsPassedOver: on a multi-host URL whose
// first host takes connections and never answers (a primary frozen or
// gone while its name still resolves), the serving pool and the change
// feed reach the next host within a request's deadline, though the URL
// sets no connect_timeout.
func TestAFirstHostThatNeverAnswersIsPassedOver(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		var held []net.Conn // open and mute until the test ends
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	u, err := url.Parse(pgtest.FreshURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Host = silent.Addr().String() + "," + u.Host
	q := u.Query()
	q.Set("target_session_attrs", "read-write")
	u.RawQuery = q.Encode()
	db, err := store.Open(u.String(), store.PoolOptions{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	const deadline = 5 * time.Second // LEADR_REQUEST_TIMEOUT's default
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	if err := db.Bun().PingContext(ctx); err != nil {
		t.Fatalf("the serving pool did not reach the second host within %v: %v", deadline, err)
	}

	reports := make(chan error, 8)
	listening, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.Listen(listening, func(err error) { reports <- err })
	}()
	t.Cleanup(func() { stop(); <-done })
	select {
	case err := <-reports:
		if err != nil {
			t.Fatalf("the change feed: %v", err)
		}
	case <-time.After(deadline):
		t.Fatalf("the change feed did not reach the second host within %v", deadline)
	}
}
