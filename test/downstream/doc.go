// Package downstream is what a team building on the LEADR identity service
// writes: a service of its own that players call with their access tokens,
// checked by package verifier (Scores, a game's leaderboard), and
// acceptance tests that start the identity service with the exported
// harness (in process) or its testcontainers module (the image) and speak
// to it with the typed client. It is a module of its own, so it sees only
// what the service exports.
package downstream
