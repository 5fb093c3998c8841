// Package verifier checks the access tokens of LEADR players without
// calling the identity service and without holding a secret: what a game's
// other services (a leaderboard, a matchmaker) import. It depends on the
// standard library only.
//
// An access token is a JWS (compact form) signed with ES256 under one of
// the service's P-256 keys, which it publishes at
// <base>/.well-known/jwks.json; its claims name the identity (sub), the
// session (sid), the player (ply), the account (acc) and the game (gam).
//
// Two levels:
//
//   - [Parse], [Token.VerifySignature] and [Claims.Check] read and check a
//     token with no network at all (the identity service itself uses them).
//   - A [Verifier] adds the key set, fetched and cached as its Cache-Control
//     says, and optionally revocations read from the service's change feed
//     ([Verifier.FollowFeed]). [Verifier.Middleware] puts it in front of an
//     http.Handler.
//
// # Revocation, and what happens when the feed is down
//
// A signature and an expiry alone cannot tell that a session was revoked
// or a player banned before its token expired (15 minutes by default).
// With FollowFeed, the verifier reads those events (session.revoked,
// session.reuse_detected, player.banned, player.deleted, player.merged,
// player.purged) from the feed, which serves an event within 1 s of its
// commit, and refuses the tokens they concern from its next poll on. It
// first reads the audit log back over one Window, so that tokens revoked
// before it started are refused too; [Verifier.Ready] is closed when that
// is done.
//
// Verification stays available when the feed is not: while the feed cannot
// be read, tokens are checked against the revocations already known, so a
// token revoked meanwhile is accepted until it expires (exp + Leeway).
// [Verifier.Status] and Config.OnError say when that is the case; a service
// that would rather refuse everything then can check Status itself.
//
// With FollowFeed, tokens of an account whose feed the API key does not
// read are refused (a regular key reads its own account's; a superadmin's,
// every account's, unless FeedConfig.AccountID names one), and so are
// tokens that live longer than FeedConfig.Window: the verifier could not vouch that such a token was not revoked
// before its memory begins. Window must therefore be at least the
// service's LEADR_ACCESS_TOKEN_TTL.
//
// On PostgreSQL the feed serves an event only once every older transaction
// has ended, so an event of a transaction that began before the start-up
// read and commits after it is behind the position the verifier follows
// from; the audit log is read back once more a minute after each start,
// which finds it unless that transaction ran longer than a minute.
//
// A signing key revoked on the service (leadr keys revoke) is unpublished
// at once, but a verifier keeps the key set it holds for its max-age (5
// minutes), and the tokens of that key until then.
package verifier
