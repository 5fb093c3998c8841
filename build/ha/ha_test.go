package ha_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/test/leadrcontainer"
)

// TestPgBouncerBoundsTheServicesStatements: pgbouncer.ini's connect_query
// gives statements the bounds the service requires at its default request
// deadline (5 s), those TestReplicasThroughPgBouncer proves it accepts.
func TestPgBouncerBoundsTheServicesStatements(t *testing.T) {
	ini, err := os.ReadFile("pgbouncer.ini")
	if err != nil {
		t.Fatal(err)
	}
	want := "connect_query='" + leadrcontainer.BoundsQuery(5*time.Second) + "'"
	if !strings.Contains(string(ini), want) {
		t.Errorf("pgbouncer.ini does not say %s", want)
	}
}
