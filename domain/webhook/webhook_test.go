package webhook_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/event"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/webhook"
)

// t0 carries nanoseconds so that the tests see what is kept of them.
var t0 = time.Date(2026, 12, 7, 18, 0, 0, 123456789, time.UTC)

// sealAs stands in for the application's cipher: the domain only keeps what
// it is given, so any bytes that tell the secrets apart will do.
func sealAs(tag string) func(id.WebhookID) []byte {
	return func(w id.WebhookID) []byte { return []byte(tag + ":" + w.String()) }
}

func mustURL(t *testing.T, raw string) webhook.URL {
	t.Helper()
	u, err := webhook.ParseURL(raw)
	if err != nil {
		t.Fatalf("ParseURL(%q): %v", raw, err)
	}
	return u
}

func mustTypes(t *testing.T, patterns ...string) webhook.EventTypes {
	t.Helper()
	types, err := webhook.ParseEventTypes(patterns)
	if err != nil {
		t.Fatalf("ParseEventTypes(%q): %v", patterns, err)
	}
	return types
}

// newWebhook is an endpoint created at t0 for identity.* and player.banned,
// described "orders", its secret sealed as "first".
func newWebhook(t *testing.T) *webhook.Webhook {
	t.Helper()
	description := "orders"
	w, err := webhook.New(id.New[id.Account](), mustURL(t, "https://example.com/hooks"),
		mustTypes(t, "identity.*", "player.banned"), &description, sealAs("first"), t0)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// copyOf is w as a store would read it back: a value apart from w.
func copyOf(w *webhook.Webhook) *webhook.Webhook { return webhook.Rehydrate(w.Snapshot()) }

// invalid asserts that err is a 422 of field, and returns it.
func invalid(t *testing.T, err error, field string) *domain.Error {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("got %v, want a domain error of %q", err, field)
	}
	if de.Category != domain.CategoryInvalid || de.Field != field {
		t.Fatalf("got %#v, want an invalid %q", de, field)
	}
	return de
}

func TestParseURL(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", 2048-len("https://example.com/"))
	for _, c := range []struct {
		name string
		raw  string
		ok   bool
	}{
		{"https", "https://example.com/hooks?tenant=1", true},
		// Whether http is allowed is the deployment's call, checked apart.
		{"http with a port", "http://example.com:8080/hooks", true},
		{"IPv4 literal", "https://203.0.113.7/hooks", true},
		{"IPv6 literal", "https://[2001:db8::1]/hooks", true},
		{"2048 bytes", long, true},

		{"empty", "", false},
		{"relative path", "/hooks", false},
		{"no scheme", "example.com/hooks", false},
		{"scheme-relative", "//example.com/hooks", false},
		{"no host", "https:///hooks", false},
		{"opaque", "https:example.com/hooks", false},
		{"ftp", "ftp://example.com/hooks", false},
		{"javascript", "javascript://example.com/%0aalert(1)", false},
		{"file", "file:///etc/passwd", false},
		{"user and password", "https://user:pass@example.com/hooks", false},
		{"user only", "https://user@example.com/hooks", false},
		{"fragment", "https://example.com/hooks#part", false},
		{"empty fragment", "https://example.com/hooks#", false},
		{"space in the path", "https://example.com/my hooks", false},
		{"space in the host", "https://exa mple.com/hooks", false},
		{"trailing space", "https://example.com/hooks ", false},
		{"tab", "https://example.com/\thooks", false},
		{"newline", "https://example.com/hooks\n", false},
		{"NUL", "https://example.com/hooks\x00", false},
		{"DEL", "https://example.com/hooks\x7f", false},
		{"2049 bytes", long + "a", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			u, err := webhook.ParseURL(c.raw)
			if !c.ok {
				invalid(t, err, "url")
				if !u.IsZero() {
					t.Errorf("a refused URL came back as %q", u)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if u.String() != c.raw || u.IsZero() {
				t.Errorf("got %q (zero %v), want %q kept as given", u, u.IsZero(), c.raw)
			}
		})
	}
}

func TestParseURLNamesTheLengthLimit(t *testing.T) {
	_, err := webhook.ParseURL("https://example.com/" + strings.Repeat("a", 2048))
	if de := invalid(t, err, "url"); de.Rule != domain.MaxLength || de.Limit != 2048 {
		t.Errorf("got rule %v limit %d, want MaxLength 2048", de.Rule, de.Limit)
	}
}

// distinctTypes are n valid patterns, no two alike.
func distinctTypes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("res_%c%c.created", 'a'+i/26, 'a'+i%26)
	}
	return out
}

func TestParseEventTypesRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		raw  []string
	}{
		{"nil", nil},
		{"no items", []string{}},
		{"51 items", distinctTypes(51)},
		{"no verb", []string{"identity"}},
		{"a bare star", []string{"*"}},
		{"upper case", []string{"Identity.created"}},
		{"star in the middle", []string{"identity.*.x"}},
		{"three parts", []string{"identity.created.x"}},
		{"empty verb", []string{"identity."}},
		{"empty resource", []string{".created"}},
		{"star without a dot", []string{"identity*"}},
		{"partial star", []string{"identity.cre*"}},
		{"digits", []string{"identity2.created"}},
		{"hyphen", []string{"api-key.created"}},
		{"space", []string{"identity.created "}},
		{"newline", []string{"identity.created\n"}},
		{"empty", []string{""}},
		{"one bad among good ones", []string{"identity.*", "player.Banned", "game.created"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			types, err := webhook.ParseEventTypes(c.raw)
			invalid(t, err, "event_types")
			if len(types.Patterns()) != 0 {
				t.Errorf("refused types came back as %q", types.Patterns())
			}
		})
	}
}

func TestParseEventTypesKeepsTheFirstOfEachInOrder(t *testing.T) {
	for _, c := range []struct {
		name string
		raw  []string
		want []string
	}{
		{"one", []string{"player.banned"}, []string{"player.banned"}},
		{"underscores and a star", []string{"api_key.*", "session.reuse_detected"}, []string{"api_key.*", "session.reuse_detected"}},
		{"duplicates", []string{"identity.*", "player.banned", "identity.*", "api_key.revoked", "player.banned"},
			[]string{"identity.*", "player.banned", "api_key.revoked"}},
		{"50 items", distinctTypes(50), distinctTypes(50)},
	} {
		t.Run(c.name, func(t *testing.T) {
			types, err := webhook.ParseEventTypes(c.raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := types.Patterns(); !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestEventTypesDoNotShareTheirSlices(t *testing.T) {
	raw := []string{"identity.*", "player.banned"}
	types := mustTypes(t, raw...)
	raw[0] = "game.created"
	got := types.Patterns()
	got[1] = "session.created"
	if want := []string{"identity.*", "player.banned"}; !slices.Equal(types.Patterns(), want) {
		t.Errorf("got %q, want %q", types.Patterns(), want)
	}
}

func TestEventTypesMatch(t *testing.T) {
	types := mustTypes(t, "identity.*", "player.banned")
	for typ, want := range map[event.Type]bool{
		"identity.created":    true,
		"identity.purged":     true,
		"player.banned":       true,
		"player.unbanned":     false,
		"identities.imported": false, // a star stands for a verb of that resource only
		"webhook.created":     false,
	} {
		if got := types.Match(typ); got != want {
			t.Errorf("Match(%s) = %v, want %v", typ, got, want)
		}
	}
}

func TestParseDescription(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"empty", "", true},
		{"text", "Orders service (production)", true},
		{"newlines and tabs", "first line\n\tsecond line", true},
		{"500 characters of two bytes each", strings.Repeat("é", 500), true},
		{"501 characters", strings.Repeat("a", 501), false},
		{"NUL", "orders\x00", false},
		{"carriage return", "orders\r\nservice", false},
		{"escape", "\x1b[31morders", false},
		{"DEL", "orders\x7f", false},
		{"not UTF-8", "orders\xff", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := webhook.ParseDescription(c.in)
			if !c.ok {
				invalid(t, err, "description")
				return
			}
			if err != nil || got != c.in {
				t.Errorf("got %q, %v; want %q kept", got, err, c.in)
			}
		})
	}
	_, err := webhook.ParseDescription(strings.Repeat("a", 501))
	if de := invalid(t, err, "description"); de.Rule != domain.MaxLength || de.Limit != 500 {
		t.Errorf("got rule %v limit %d, want MaxLength 500", de.Rule, de.Limit)
	}
}

func TestParseStatus(t *testing.T) {
	for in, want := range map[string]webhook.Status{"enabled": webhook.Enabled, "disabled": webhook.Disabled} {
		if got, err := webhook.ParseStatus(in); err != nil || got != want {
			t.Errorf("ParseStatus(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "Enabled", "DISABLED", "paused", " enabled"} {
		got, err := webhook.ParseStatus(in)
		invalid(t, err, "status")
		if got != "" {
			t.Errorf("ParseStatus(%q) = %q with its error", in, got)
		}
	}
}

func TestNewIsAnEnabledEndpointWithItsFirstSecret(t *testing.T) {
	account := id.New[id.Account]()
	var sealedFor id.WebhookID
	seal := func(w id.WebhookID) []byte {
		sealedFor = w
		return []byte("sealed")
	}
	w, err := webhook.New(account, mustURL(t, "https://example.com/hooks"), mustTypes(t, "identity.*"), nil, seal, t0)
	if err != nil {
		t.Fatal(err)
	}
	if w.ID().IsZero() || sealedFor != w.ID() {
		t.Errorf("the secret was sealed for %v, want the new webhook's ID %v", sealedFor, w.ID())
	}
	want := domain.Timestamp(t0)
	switch {
	case w.AccountID() != account, w.URL().String() != "https://example.com/hooks",
		!slices.Equal(w.EventTypes().Patterns(), []string{"identity.*"}), w.Description() != nil:
		t.Errorf("fields not kept: %+v", w.Snapshot())
	case w.Status() != webhook.Enabled, w.DisabledReason() != "", !w.FailingSince().IsZero(), w.IsDeleted():
		t.Errorf("not a new enabled endpoint: %+v", w.Snapshot())
	case !w.CreatedAt().Equal(want) || !w.UpdatedAt().Equal(want) || w.CreatedAt().Location() != time.UTC:
		t.Errorf("created %v, updated %v; want both %v", w.CreatedAt(), w.UpdatedAt(), want)
	case !reflect.DeepEqual(w.Secrets(t0), [][]byte{[]byte("sealed")}) || string(w.SealedSecret()) != "sealed":
		t.Errorf("secrets %q, want the sealed one alone", w.Secrets(t0))
	}
}

func TestNewNeedsEachField(t *testing.T) {
	u, types := mustURL(t, "https://example.com/hooks"), mustTypes(t, "identity.*")
	account := id.New[id.Account]()
	for _, c := range []struct {
		field   string
		account id.AccountID
		url     webhook.URL
		types   webhook.EventTypes
	}{
		{"account_id", id.AccountID{}, u, types},
		{"url", account, webhook.URL{}, types},
		{"event_types", account, u, webhook.EventTypes{}},
	} {
		w, err := webhook.New(c.account, c.url, c.types, nil, sealAs("s"), t0)
		if de := invalid(t, err, c.field); de.Rule != domain.Required || w != nil {
			t.Errorf("%s: got %v, rule %v; want no webhook and Required", c.field, w, de.Rule)
		}
	}
}

func TestDescriptionIsACopy(t *testing.T) {
	w := newWebhook(t)
	*w.Description() = "changed"
	if got := w.Description(); got == nil || *got != "orders" {
		t.Errorf("description %v, want \"orders\" untouched", got)
	}
}

func TestSnapshotRoundTrips(t *testing.T) {
	w := newWebhook(t)
	if err := w.RotateSecret([]byte("second"), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	w.RecordAttempt(webhook.Outcome{ResponseStatus: 500}, t0.Add(2*time.Hour))
	if got, want := copyOf(w).Snapshot(), w.Snapshot(); !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestApplyReportsAndStampsOnlyARealChange(t *testing.T) {
	other := mustURL(t, "https://example.org/other")
	same := mustURL(t, "https://example.com/hooks")
	reordered := mustTypes(t, "player.banned", "identity.*")
	sameTypes := mustTypes(t, "identity.*", "player.banned")
	fewer := mustTypes(t, "identity.*")
	orders, billing := "orders", "billing"
	var none *string
	enabled, disabled := webhook.Enabled, webhook.Disabled
	for _, c := range []struct {
		name    string
		change  webhook.Change
		changed bool
		check   func(*webhook.Webhook) bool
	}{
		{"nothing", webhook.Change{}, false, nil},
		{"the same URL", webhook.Change{URL: &same}, false, nil},
		{"another URL", webhook.Change{URL: &other}, true, func(w *webhook.Webhook) bool { return w.URL() == other }},
		{"the same types", webhook.Change{EventTypes: &sameTypes}, false, nil},
		{"fewer types", webhook.Change{EventTypes: &fewer}, true,
			func(w *webhook.Webhook) bool { return slices.Equal(w.EventTypes().Patterns(), fewer.Patterns()) }},
		// The order given is kept, so another order is a change.
		{"types reordered", webhook.Change{EventTypes: &reordered}, true,
			func(w *webhook.Webhook) bool { return slices.Equal(w.EventTypes().Patterns(), reordered.Patterns()) }},
		{"the same description", webhook.Change{Description: ptr(&orders)}, false, nil},
		{"another description", webhook.Change{Description: ptr(&billing)}, true,
			func(w *webhook.Webhook) bool { return w.Description() != nil && *w.Description() == billing }},
		{"description cleared", webhook.Change{Description: &none}, true, func(w *webhook.Webhook) bool { return w.Description() == nil }},
		{"still enabled", webhook.Change{Status: &enabled}, false, nil},
		{"disabled", webhook.Change{Status: &disabled}, true,
			func(w *webhook.Webhook) bool { return w.Status() == webhook.Disabled && w.DisabledReason() == "" }},
		{"all the same at once", webhook.Change{URL: &same, EventTypes: &sameTypes, Description: ptr(&orders), Status: &enabled}, false, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWebhook(t)
			before := w.Snapshot()
			later := t0.Add(time.Hour)
			changed, err := w.Apply(c.change, later)
			if err != nil {
				t.Fatal(err)
			}
			if changed != c.changed {
				t.Errorf("changed = %v, want %v", changed, c.changed)
			}
			wantUpdated := before.UpdatedAt
			if c.changed {
				wantUpdated = domain.Timestamp(later)
			}
			if !w.UpdatedAt().Equal(wantUpdated) {
				t.Errorf("updated_at %v, want %v", w.UpdatedAt(), wantUpdated)
			}
			if c.check != nil && !c.check(w) {
				t.Errorf("change not made: %+v", w.Snapshot())
			}
			if !c.changed && !reflect.DeepEqual(w.Snapshot(), before) {
				t.Errorf("no change, yet\n got %+v\nwant %+v", w.Snapshot(), before)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestEnablingForgetsWhyAndSinceWhenItFailed(t *testing.T) {
	w := newWebhook(t)
	w.RecordAttempt(webhook.Outcome{ResponseStatus: 500}, t0.Add(time.Minute))
	w.RecordAttempt(webhook.Outcome{ResponseStatus: 410}, t0.Add(2*time.Minute))
	if w.Status() != webhook.Disabled || w.DisabledReason() != webhook.ReasonGone || w.FailingSince().IsZero() {
		t.Fatalf("not disabled by the 410: %+v", w.Snapshot())
	}
	enabled := webhook.Enabled
	changed, err := w.Apply(webhook.Change{Status: &enabled}, t0.Add(time.Hour))
	if err != nil || !changed {
		t.Fatalf("Apply = %v, %v", changed, err)
	}
	if w.Status() != webhook.Enabled || w.DisabledReason() != "" || !w.FailingSince().IsZero() {
		t.Fatalf("enabled, yet %+v", w.Snapshot())
	}
	// The endpoint has its whole FailingLimit again, counted from its next
	// failure.
	again := domain.Timestamp(t0).Add(2 * time.Hour)
	w.RecordAttempt(webhook.Outcome{ResponseStatus: 500}, again)
	w.RecordAttempt(webhook.Outcome{ResponseStatus: 500}, again.Add(webhook.FailingLimit-time.Microsecond))
	if w.Status() != webhook.Enabled || !w.FailingSince().Equal(again) {
		t.Errorf("failing since %v, status %s; want since %v, still enabled", w.FailingSince(), w.Status(), again)
	}
}

func TestDisablingByHandNamesNoReason(t *testing.T) {
	w := newWebhook(t)
	w.RecordAttempt(webhook.Outcome{Error: "timeout"}, t0.Add(time.Minute))
	disabled := webhook.Disabled
	if changed, err := w.Apply(webhook.Change{Status: &disabled}, t0.Add(time.Hour)); err != nil || !changed {
		t.Fatalf("Apply = %v, %v", changed, err)
	}
	if w.DisabledReason() != "" || !w.FailingSince().IsZero() {
		t.Errorf("disabled by a caller, yet %+v", w.Snapshot())
	}
}

func TestADeletedWebhookRefusesChanges(t *testing.T) {
	w := newWebhook(t)
	if err := w.Delete(t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	before := w.Snapshot()
	u := mustURL(t, "https://example.org/other")
	if changed, err := w.Apply(webhook.Change{URL: &u}, t0.Add(2*time.Hour)); !errors.Is(err, webhook.ErrDeleted) || changed {
		t.Errorf("Apply = %v, %v; want ErrDeleted", changed, err)
	}
	if err := w.RotateSecret([]byte("second"), t0.Add(2*time.Hour)); !errors.Is(err, webhook.ErrDeleted) {
		t.Errorf("RotateSecret = %v, want ErrDeleted", err)
	}
	w.Disable(webhook.ReasonGone, t0.Add(2*time.Hour))
	if !reflect.DeepEqual(w.Snapshot(), before) {
		t.Errorf("a deleted webhook changed:\n got %+v\nwant %+v", w.Snapshot(), before)
	}
}

func TestRotatedSecretSignsBesideTheNewOneFor24Hours(t *testing.T) {
	w := newWebhook(t)
	first := w.SealedSecret()
	rotated := t0.Add(time.Hour)
	sealed := []byte("second")
	if err := w.RotateSecret(sealed, rotated); err != nil {
		t.Fatal(err)
	}
	sealed[0] = 'X' // the webhook keeps its own copy
	ends := domain.Timestamp(rotated).Add(webhook.RotationOverlap)
	if !w.PreviousUntil().Equal(ends) || !w.UpdatedAt().Equal(domain.Timestamp(rotated)) {
		t.Errorf("overlap ends %v, updated %v; want %v and %v", w.PreviousUntil(), w.UpdatedAt(), ends, domain.Timestamp(rotated))
	}
	if string(w.SealedSecret()) != "second" {
		t.Errorf("current secret %q, want \"second\"", w.SealedSecret())
	}
	both := [][]byte{[]byte("second"), first}
	for _, c := range []struct {
		name string
		at   time.Time
		want [][]byte
	}{
		{"at the rotation", rotated, both},
		{"an hour on", rotated.Add(time.Hour), both},
		{"the last moment of the overlap", ends.Add(-time.Nanosecond), both},
		{"when the overlap ends", ends, [][]byte{[]byte("second")}},
		{"a day after", ends.Add(24 * time.Hour), [][]byte{[]byte("second")}},
	} {
		if got := w.Secrets(c.at); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: secrets %q, want %q", c.name, got, c.want)
		}
	}
}

func TestSecretsBeforeAnyRotation(t *testing.T) {
	w := newWebhook(t)
	if got := w.Secrets(t0.Add(time.Hour)); len(got) != 1 || !strings.HasPrefix(string(got[0]), "first:") {
		t.Errorf("secrets %q, want the first alone", got)
	}
}

func TestRecordAttempt(t *testing.T) {
	ok := webhook.Outcome{ResponseStatus: 204}
	fail := webhook.Outcome{ResponseStatus: 500}
	timeout := webhook.Outcome{Error: "timeout"}
	gone := webhook.Outcome{ResponseStatus: 410}
	// at are whole microseconds from t0, as a store keeps them.
	start := domain.Timestamp(t0)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	type attempt struct {
		o  webhook.Outcome
		at time.Time
	}
	for _, c := range []struct {
		name         string
		attempts     []attempt
		status       webhook.Status
		reason       string
		failingSince time.Time
	}{
		{"a success", []attempt{{ok, at(time.Minute)}}, webhook.Enabled, "", time.Time{}},
		{"the first failure", []attempt{{fail, at(time.Minute)}}, webhook.Enabled, "", at(time.Minute)},
		{"a later failure keeps the first", []attempt{{timeout, at(time.Minute)}, {fail, at(time.Hour)}}, webhook.Enabled, "", at(time.Minute)},
		{"a 2xx with an error is a failure", []attempt{{webhook.Outcome{ResponseStatus: 200, Error: "body too slow"}, at(time.Minute)}},
			webhook.Enabled, "", at(time.Minute)},
		{"a success forgets the failures", []attempt{{fail, at(time.Minute)}, {ok, at(time.Hour)}}, webhook.Enabled, "", time.Time{}},
		{"410 disables at once", []attempt{{gone, at(time.Minute)}}, webhook.Disabled, webhook.ReasonGone, at(time.Minute)},
		{"410 after other failures", []attempt{{fail, at(time.Minute)}, {gone, at(time.Hour)}}, webhook.Disabled, webhook.ReasonGone, at(time.Minute)},
		{"failing a moment short of the limit", []attempt{{fail, at(0)}, {timeout, at(webhook.FailingLimit - time.Microsecond)}},
			webhook.Enabled, "", at(0)},
		{"failing for the limit", []attempt{{fail, at(0)}, {fail, at(webhook.FailingLimit)}}, webhook.Disabled, webhook.ReasonFailing, at(0)},
		{"failing past the limit", []attempt{{timeout, at(0)}, {timeout, at(webhook.FailingLimit + time.Hour)}},
			webhook.Disabled, webhook.ReasonFailing, at(0)},
		{"a success between restarts the count", []attempt{{fail, at(0)}, {ok, at(3 * 24 * time.Hour)},
			{fail, at(4 * 24 * time.Hour)}, {fail, at(webhook.FailingLimit + time.Hour)}},
			webhook.Enabled, "", at(4 * 24 * time.Hour)},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWebhook(t)
			created := w.UpdatedAt()
			for _, a := range c.attempts {
				w.RecordAttempt(a.o, a.at)
			}
			if w.Status() != c.status || w.DisabledReason() != c.reason || !w.FailingSince().Equal(c.failingSince) {
				t.Errorf("status %s (%q), failing since %v; want %s (%q), since %v",
					w.Status(), w.DisabledReason(), w.FailingSince(), c.status, c.reason, c.failingSince)
			}
			// Only disabling is a change of the endpoint's; the rest is
			// bookkeeping of its deliveries.
			wantUpdated := created
			if c.status == webhook.Disabled {
				wantUpdated = c.attempts[len(c.attempts)-1].at
			}
			if !w.UpdatedAt().Equal(wantUpdated) {
				t.Errorf("updated_at %v, want %v", w.UpdatedAt(), wantUpdated)
			}
		})
	}
}

func TestRecordAttemptLeavesADisabledEndpointsReason(t *testing.T) {
	w := newWebhook(t)
	w.RecordAttempt(webhook.Outcome{ResponseStatus: 410}, t0.Add(time.Minute))
	w.RecordAttempt(webhook.Outcome{ResponseStatus: 500}, t0.Add(webhook.FailingLimit+time.Hour))
	if w.DisabledReason() != webhook.ReasonGone {
		t.Errorf("reason %q, want the first one, %q", w.DisabledReason(), webhook.ReasonGone)
	}
}

func TestRecordAttemptLeavesADeletedWebhookAlone(t *testing.T) {
	w := newWebhook(t)
	if err := w.Delete(t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	before := w.Snapshot()
	w.RecordAttempt(webhook.Outcome{ResponseStatus: 500}, t0.Add(time.Hour))
	w.RecordAttempt(webhook.Outcome{ResponseStatus: 410}, t0.Add(2*time.Hour))
	if !reflect.DeepEqual(w.Snapshot(), before) {
		t.Errorf("a deleted webhook changed:\n got %+v\nwant %+v", w.Snapshot(), before)
	}
}

func TestDeleteForgetsTheSecretsOnce(t *testing.T) {
	w := newWebhook(t)
	if err := w.RotateSecret([]byte("second"), t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	deleted := t0.Add(time.Hour)
	if err := w.Delete(deleted); err != nil {
		t.Fatal(err)
	}
	s := w.Snapshot()
	if !w.IsDeleted() || !s.DeletedAt.Equal(domain.Timestamp(deleted)) || !w.UpdatedAt().Equal(domain.Timestamp(deleted)) {
		t.Errorf("deleted at %v, updated %v; want both %v", s.DeletedAt, w.UpdatedAt(), domain.Timestamp(deleted))
	}
	if len(s.Secret) != 0 || len(s.PreviousSecret) != 0 || !s.PreviousUntil.IsZero() || len(w.SealedSecret()) != 0 {
		t.Errorf("secrets kept after deletion: %q, %q until %v", s.Secret, s.PreviousSecret, s.PreviousUntil)
	}
	if slices.ContainsFunc(w.Secrets(t0.Add(2*time.Minute)), func(b []byte) bool { return len(b) > 0 }) {
		t.Errorf("a deleted webhook still signs with %q", w.Secrets(t0.Add(2*time.Minute)))
	}
	if err := w.Delete(t0.Add(2 * time.Hour)); !errors.Is(err, webhook.ErrDeleted) {
		t.Errorf("second Delete = %v, want ErrDeleted", err)
	}
	if !w.UpdatedAt().Equal(domain.Timestamp(deleted)) {
		t.Errorf("the second Delete moved updated_at to %v", w.UpdatedAt())
	}
}

func TestWants(t *testing.T) {
	created := domain.Timestamp(t0)
	for _, c := range []struct {
		name  string
		typ   event.Type
		at    time.Time
		setup func(*testing.T, *webhook.Webhook)
		want  bool
	}{
		{"a type under a star", "identity.created", created.Add(time.Hour), nil, true},
		{"an exact type", "player.banned", created.Add(time.Hour), nil, true},
		{"another verb", "player.unbanned", created.Add(time.Hour), nil, false},
		{"another resource", "identities.imported", created.Add(time.Hour), nil, false},
		{"made as the endpoint was created", "identity.created", created, nil, true},
		{"made just before it", "identity.created", created.Add(-time.Microsecond), nil, false},
		{"disabled", "identity.created", created.Add(time.Hour), func(t *testing.T, w *webhook.Webhook) {
			disabled := webhook.Disabled
			if _, err := w.Apply(webhook.Change{Status: &disabled}, created.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"disabled by the service", "identity.created", created.Add(time.Hour), func(_ *testing.T, w *webhook.Webhook) {
			w.Disable(webhook.ReasonFailing, created.Add(time.Minute))
		}, false},
		{"deleted", "identity.created", created.Add(time.Hour), func(t *testing.T, w *webhook.Webhook) {
			if err := w.Delete(created.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWebhook(t)
			if c.setup != nil {
				c.setup(t, w)
			}
			if got := w.Wants(c.typ, c.at); got != c.want {
				t.Errorf("Wants(%s, %v) = %v, want %v", c.typ, c.at, got, c.want)
			}
		})
	}
}

func TestCreated(t *testing.T) {
	w := newWebhook(t)
	e := webhook.Created(w)
	want := event.Subject{Resource: "webhook", ID: w.ID().String()}
	if e.Type != "webhook.created" || e.AccountID != w.AccountID() || e.Subject != want || !e.OccurredAt.Equal(w.CreatedAt()) ||
		e.Before != nil || e.After != w {
		t.Errorf("got %+v", e)
	}
}

func TestChanged(t *testing.T) {
	later := t0.Add(time.Hour)
	for _, c := range []struct {
		name   string
		setup  func(*testing.T, *webhook.Webhook) // before the change
		change func(*testing.T, *webhook.Webhook)
		want   event.Type
	}{
		{"URL", nil, func(t *testing.T, w *webhook.Webhook) {
			u := mustURL(t, "https://example.org/other")
			mustApply(t, w, webhook.Change{URL: &u}, later)
		}, "webhook.updated"},
		{"disabled by a caller", nil, func(t *testing.T, w *webhook.Webhook) {
			disabled := webhook.Disabled
			mustApply(t, w, webhook.Change{Status: &disabled}, later)
		}, "webhook.disabled"},
		{"disabled by a 410", nil, func(_ *testing.T, w *webhook.Webhook) {
			w.RecordAttempt(webhook.Outcome{ResponseStatus: 410}, later)
		}, "webhook.disabled"},
		{"disabled by failing for days", func(_ *testing.T, w *webhook.Webhook) {
			w.RecordAttempt(webhook.Outcome{ResponseStatus: 500}, later)
		}, func(_ *testing.T, w *webhook.Webhook) {
			w.RecordAttempt(webhook.Outcome{Error: "timeout"}, later.Add(webhook.FailingLimit))
		}, "webhook.disabled"},
		{"enabled again", func(_ *testing.T, w *webhook.Webhook) {
			w.RecordAttempt(webhook.Outcome{ResponseStatus: 410}, later)
		}, func(t *testing.T, w *webhook.Webhook) {
			enabled := webhook.Enabled
			mustApply(t, w, webhook.Change{Status: &enabled}, later.Add(time.Hour))
		}, "webhook.updated"},
		{"secret rotated", nil, func(t *testing.T, w *webhook.Webhook) {
			if err := w.RotateSecret([]byte("second"), later); err != nil {
				t.Fatal(err)
			}
		}, "webhook.secret_rotated"},
		{"deleted", nil, func(t *testing.T, w *webhook.Webhook) {
			if err := w.Delete(later); err != nil {
				t.Fatal(err)
			}
		}, "webhook.deleted"},
		{"deleted while disabled", func(_ *testing.T, w *webhook.Webhook) {
			w.Disable(webhook.ReasonGone, later)
		}, func(t *testing.T, w *webhook.Webhook) {
			if err := w.Delete(later.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}, "webhook.deleted"},
		{"only failing since, set", nil, func(_ *testing.T, w *webhook.Webhook) {
			w.RecordAttempt(webhook.Outcome{ResponseStatus: 500}, later)
		}, ""},
		{"only failing since, cleared", func(_ *testing.T, w *webhook.Webhook) {
			w.RecordAttempt(webhook.Outcome{ResponseStatus: 500}, later)
		}, func(_ *testing.T, w *webhook.Webhook) {
			w.RecordAttempt(webhook.Outcome{ResponseStatus: 200}, later.Add(time.Hour))
		}, ""},
		{"nothing", nil, func(t *testing.T, w *webhook.Webhook) {
			mustApply(t, w, webhook.Change{}, later)
		}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWebhook(t)
			if c.setup != nil {
				c.setup(t, w)
			}
			before := copyOf(w)
			c.change(t, w)
			e := webhook.Changed(before, w)
			if e.Type != c.want {
				t.Fatalf("type %q, want %q", e.Type, c.want)
			}
			if c.want == "" {
				if !reflect.DeepEqual(e, event.Event{}) {
					t.Errorf("no event, yet %+v", e)
				}
				return
			}
			subject := event.Subject{Resource: "webhook", ID: w.ID().String()}
			if e.AccountID != w.AccountID() || e.Subject != subject || !e.OccurredAt.Equal(w.UpdatedAt()) || e.Before != before || e.After != w {
				t.Errorf("got %+v", e)
			}
		})
	}
}

func mustApply(t *testing.T, w *webhook.Webhook, c webhook.Change, now time.Time) {
	t.Helper()
	if _, err := w.Apply(c, now); err != nil {
		t.Fatal(err)
	}
}
