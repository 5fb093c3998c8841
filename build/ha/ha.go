// Package ha holds the configuration of the service at scale that
// docker-compose.ha.yml mounts, for the tests to run as is
// (test/scale).
package ha

import _ "embed"

// HAProxy is haproxy.cfg.
//
//go:embed haproxy.cfg
var HAProxy []byte
