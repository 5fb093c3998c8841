// Package downstream is what a team building on the LEADR identity service
// writes: its own acceptance tests, which start the service with the
// exported harness (in process) or its testcontainers module (the image),
// and speak to it with the typed client. It is a module of its own, so it
// sees only what the service exports.
package downstream
