// Package replication holds the scripts that run the PostgreSQL images (the
// official postgres image and build/postgres alike) as a primary and its
// streaming standby: mount them into a container, or take them from here
// (test/leadrcontainer does).
package replication

import _ "embed"

// Primary goes in /docker-entrypoint-initdb.d; see primary.sh.
//
//go:embed primary.sh
var Primary []byte

// Standby is a standby's entrypoint; see standby.sh.
//
//go:embed standby.sh
var Standby []byte
