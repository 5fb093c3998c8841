package identity_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/identity"
)

// invalidErr asserts that err is an Invalid *domain.Error and returns it.
func invalidErr(t *testing.T, err error) *domain.Error {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want an Invalid error")
	}
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *domain.Error", err, err)
	}
	if de.Category != domain.CategoryInvalid {
		t.Fatalf("category = %v, want CategoryInvalid (%v)", de.Category, err)
	}
	return de
}

func TestParseKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want identity.Kind
		ok   bool
	}{
		{"DEVICE", identity.KindDevice, true},
		{"STEAM", identity.KindSteam, true},
		{"CUSTOM", identity.KindCustom, true},
		{"device", identity.Kind{}, false},
		{"Device", identity.Kind{}, false},
		{"steam", identity.Kind{}, false},
		{" DEVICE", identity.Kind{}, false},
		{"DEVICE ", identity.Kind{}, false},
		{"", identity.Kind{}, false},
		{"EMAIL", identity.Kind{}, false},
		{"DEVICE,STEAM", identity.Kind{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := identity.ParseKind(tt.in)
			if tt.ok {
				if err != nil {
					t.Fatalf("ParseKind(%q): %v", tt.in, err)
				}
				if got != tt.want || got.String() != tt.in || got.IsZero() {
					t.Errorf("ParseKind(%q) = %q, want %q", tt.in, got, tt.want)
				}
				return
			}
			de := invalidErr(t, err)
			if de.Field != "kind" || de.Rule != domain.OneOf {
				t.Errorf("field, rule = %q, %v; want kind, OneOf", de.Field, de.Rule)
			}
			if de.Input != tt.in {
				t.Errorf("input = %v, want %q", de.Input, tt.in)
			}
			if !slices.Equal(de.Allowed, []string{"DEVICE", "STEAM", "CUSTOM"}) {
				t.Errorf("allowed = %q, want every kind in order", de.Allowed)
			}
			if !got.IsZero() {
				t.Errorf("ParseKind(%q) returned non-zero kind %q with its error", tt.in, got)
			}
		})
	}
}

func TestKindsIsTheClosedSet(t *testing.T) {
	t.Parallel()
	got := identity.Kinds()
	want := []identity.Kind{identity.KindDevice, identity.KindSteam, identity.KindCustom}
	if len(got) != len(want) {
		t.Fatalf("Kinds() = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Kinds()[%d] = %q, want %q", i, got[i], want[i])
		}
	}
	var zero identity.Kind
	if !zero.IsZero() || zero.String() != "" {
		t.Errorf("zero Kind: IsZero=%v String=%q", zero.IsZero(), zero.String())
	}
}

func TestNewExternalKey(t *testing.T) {
	t.Parallel()
	visible := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteByte(byte(0x21 + i%(0x7E-0x21+1)))
		}
		return b.String()
	}
	allVisible := visible(0x7E - 0x21 + 1) // 94 characters, 0x21 through 0x7E
	tests := []struct {
		name string
		kind identity.Kind
		raw  string
		ok   bool
	}{
		// DEVICE: 10–128 visible ASCII.
		{"device 9", identity.KindDevice, visible(9), false},
		{"device 10", identity.KindDevice, visible(10), true},
		{"device 128", identity.KindDevice, visible(128), true},
		{"device 129", identity.KindDevice, visible(129), false},
		{"device empty", identity.KindDevice, "", false},
		{"device every visible char", identity.KindDevice, allVisible, true},
		{"device inner space", identity.KindDevice, "abcde fghij", false},
		{"device leading space", identity.KindDevice, " abcdefghij", false},
		{"device tab", identity.KindDevice, "abcde\tfghij", false},
		{"device DEL 0x7F", identity.KindDevice, "abcdefghij\x7f", false},
		{"device NUL", identity.KindDevice, "abcdefghij\x00", false},
		{"device non-ASCII", identity.KindDevice, "abcdefghijé", false},
		{"device non-ASCII counted in bytes", identity.KindDevice, "ééééé", false},
		{"device invalid UTF-8", identity.KindDevice, "abcdefghij\xff", false},
		// CUSTOM: 6–128 visible ASCII.
		{"custom 5", identity.KindCustom, visible(5), false},
		{"custom 6", identity.KindCustom, visible(6), true},
		{"custom 9", identity.KindCustom, visible(9), true},
		{"custom 128", identity.KindCustom, visible(128), true},
		{"custom 129", identity.KindCustom, visible(129), false},
		{"custom space", identity.KindCustom, "abc def", false},
		{"custom DEL 0x7F", identity.KindCustom, "abcdef\x7f", false},
		{"custom non-ASCII", identity.KindCustom, "abcdeü", false},
		{"custom every visible char", identity.KindCustom, allVisible, true},
		// STEAM: exactly 17 digits starting 7656119.
		{"steam valid", identity.KindSteam, "76561197960287930", true},
		{"steam valid max", identity.KindSteam, "76561199999999999", true},
		{"steam prefix only padded", identity.KindSteam, "76561190000000000", true},
		{"steam 16 digits", identity.KindSteam, "7656119796028793", false},
		{"steam 18 digits", identity.KindSteam, "765611979602879301", false},
		{"steam wrong prefix", identity.KindSteam, "76561187960287930", false},
		{"steam other digits", identity.KindSteam, "12345678901234567", false},
		{"steam letter", identity.KindSteam, "7656119796028793a", false},
		{"steam trailing space", identity.KindSteam, "7656119796028793 ", false},
		{"steam leading space", identity.KindSteam, " 7656119796028793", false},
		{"steam sign", identity.KindSteam, "+7656119796028793", false},
		{"steam fullwidth digit", identity.KindSteam, "765611979602879３", false},
		{"steam empty", identity.KindSteam, "", false},
		{"steam short", identity.KindSteam, "7656", false},
		// A valid DEVICE key is not a valid STEAM key and vice versa.
		{"steam given device key", identity.KindSteam, "device-0001", false},
		{"device given steam id", identity.KindDevice, "76561197960287930", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := identity.NewExternalKey(tt.kind, tt.raw)
			if tt.ok {
				if err != nil {
					t.Fatalf("NewExternalKey(%s, %q): %v", tt.kind, tt.raw, err)
				}
				if got.String() != tt.raw || got.Kind() != tt.kind {
					t.Errorf("got key %q of kind %q, want %q of %q", got, got.Kind(), tt.raw, tt.kind)
				}
				return
			}
			de := invalidErr(t, err)
			if de.Field != "external_key" || de.Rule != domain.Custom {
				t.Errorf("field, rule = %q, %v; want external_key, Custom", de.Field, de.Rule)
			}
			if de.Input != tt.raw {
				t.Errorf("input = %v, want %q", de.Input, tt.raw)
			}
			if !strings.Contains(de.Message, tt.kind.String()) {
				t.Errorf("message %q does not name the kind %s", de.Message, tt.kind)
			}
		})
	}
}

func TestNewExternalKeyWithoutKind(t *testing.T) {
	t.Parallel()
	_, err := identity.NewExternalKey(identity.Kind{}, "abcdefghijk")
	de := invalidErr(t, err)
	if de.Field != "kind" {
		t.Errorf("field = %q, want kind", de.Field)
	}
}

func TestParseDisplayName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		raw   string
		want  string      // when ok
		rule  domain.Rule // when not ok
		limit int
	}{
		{name: "plain", raw: "Alice", want: "Alice"},
		{name: "one char", raw: "a", want: "a"},
		{name: "inner spaces kept", raw: "Player  One", want: "Player  One"},
		{name: "ascii spaces trimmed", raw: "  Bob  ", want: "Bob"},
		{name: "tabs and newlines trimmed", raw: "\t\n Bob \r\n", want: "Bob"},
		{name: "no-break space trimmed", raw: "\u00a0Bob\u00a0", want: "Bob"},
		{name: "ideographic space trimmed", raw: "\u3000Bob\u3000", want: "Bob"},
		{name: "em space and line separator trimmed", raw: "\u2003Bob\u2028", want: "Bob"},
		{name: "NEL at the edge trimmed", raw: "\u0085Bob\u0085", want: "Bob"},
		{name: "inner no-break space kept", raw: "Bob\u00a0Lee", want: "Bob\u00a0Lee"},
		{name: "NFC composes", raw: "e\u0301", want: "é"},
		{name: "NFC composes inside", raw: "Jose\u0301 ", want: "José"},
		{name: "already NFC", raw: "é", want: "é"},
		{name: "emoji", raw: "🎮 gamer 🙂", want: "🎮 gamer 🙂"},
		{name: "zero width space is Cf not Cc", raw: "a\u200bb", want: "a\u200bb"},
		{name: "emoji joined by ZWJ", raw: "👩\u200d💻 Ada", want: "👩\u200d💻 Ada"},
		{name: "family emoji sequence alone", raw: "👨\u200d👩\u200d👧", want: "👨\u200d👩\u200d👧"},
		{name: "ZWNJ in Persian", raw: "می\u200cخواهم", want: "می\u200cخواهم"},
		{name: "combining mark on a letter", raw: "Zalgo\u0336", want: "Zalgo\u0336"},
		{name: "CJK", raw: "玩家一号", want: "玩家一号"},
		{name: "64 ascii", raw: strings.Repeat("a", 64), want: strings.Repeat("a", 64)},
		{name: "64 é counted as code points", raw: strings.Repeat("é", 64), want: strings.Repeat("é", 64)},
		{name: "64 decomposed é count after NFC", raw: strings.Repeat("e\u0301", 64), want: strings.Repeat("é", 64)},
		{name: "64 emoji", raw: strings.Repeat("🙂", 64), want: strings.Repeat("🙂", 64)},
		{name: "64 after trimming", raw: "  " + strings.Repeat("x", 64) + "\u3000", want: strings.Repeat("x", 64)},

		{name: "empty", raw: "", rule: domain.MinLength, limit: 1},
		{name: "only spaces", raw: "   ", rule: domain.MinLength, limit: 1},
		{name: "only unicode white space", raw: "\u00a0\u3000\u2003\t", rule: domain.MinLength, limit: 1},
		{name: "65 ascii", raw: strings.Repeat("a", 65), rule: domain.MaxLength, limit: 64},
		{name: "65 é", raw: strings.Repeat("é", 65), rule: domain.MaxLength, limit: 64},
		{name: "65 emoji", raw: strings.Repeat("🙂", 65), rule: domain.MaxLength, limit: 64},
		{name: "NUL", raw: "a\u0000b", rule: domain.Custom},
		{name: "NUL alone", raw: "\u0000", rule: domain.Custom},
		{name: "BEL", raw: "ab\u0007", rule: domain.Custom},
		{name: "inner NEL", raw: "a\u0085b", rule: domain.Custom},
		{name: "inner newline", raw: "a\nb", rule: domain.Custom},
		{name: "inner tab", raw: "a\tb", rule: domain.Custom},
		{name: "DEL", raw: "a\u007fb", rule: domain.Custom},
		{name: "C1 control", raw: "a\u009fb", rule: domain.Custom},
		{name: "ESC", raw: "\u001b[31mred", rule: domain.Custom},
		// Names a leaderboard would show as another's (issue 17).
		{name: "right-to-left override", raw: "\u202eadmin\u200b", rule: domain.Custom},
		{name: "bidi control U+061C", raw: "a\u061cb", rule: domain.Custom},
		{name: "bidi control U+200E", raw: "a\u200eb", rule: domain.Custom},
		{name: "bidi control U+200F", raw: "a\u200fb", rule: domain.Custom},
		{name: "bidi control U+202A", raw: "a\u202ab", rule: domain.Custom},
		{name: "bidi control U+202B", raw: "a\u202bb", rule: domain.Custom},
		{name: "bidi control U+202C", raw: "a\u202cb", rule: domain.Custom},
		{name: "bidi control U+202D", raw: "a\u202db", rule: domain.Custom},
		{name: "bidi control U+2066", raw: "a\u2066b", rule: domain.Custom},
		{name: "bidi control U+2067", raw: "a\u2067b", rule: domain.Custom},
		{name: "bidi control U+2068", raw: "a\u2068b", rule: domain.Custom},
		{name: "bidi control U+2069", raw: "a\u2069b", rule: domain.Custom},
		{name: "left-to-right isolate alone", raw: "ad\u2066min", rule: domain.Custom},
		{name: "line separator inside", raw: "a\u2028b", rule: domain.Custom},
		{name: "paragraph separator inside", raw: "a\u2029b", rule: domain.Custom},
		{name: "BOM inside", raw: "ad\ufeffmin", rule: domain.Custom},
		{name: "zero width spaces only", raw: "\u200b\u200b", rule: domain.Custom},
		{name: "zero width space alone", raw: "\u200b", rule: domain.Custom},
		{name: "joiners only", raw: "\u200d\u200c", rule: domain.Custom},
		{name: "combining marks only", raw: "\u0336\u0337\u0338", rule: domain.Custom},
		{name: "Hangul filler", raw: "\u3164\u3164", rule: domain.Custom},
		{name: "half-width Hangul filler and ZWSP", raw: "\uffa0\u200b\u115f", rule: domain.Custom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := identity.ParseDisplayName(tt.raw)
			if tt.rule == domain.NoRule {
				if err != nil {
					t.Fatalf("ParseDisplayName(%q): %v", tt.raw, err)
				}
				if got.String() != tt.want {
					t.Errorf("ParseDisplayName(%q) = %q, want %q", tt.raw, got, tt.want)
				}
				if got.IsZero() {
					t.Errorf("ParseDisplayName(%q) is zero", tt.raw)
				}
				return
			}
			de := invalidErr(t, err)
			if de.Field != "display_name" {
				t.Errorf("field = %q, want display_name", de.Field)
			}
			if de.Rule != tt.rule || de.Limit != tt.limit {
				t.Errorf("rule, limit = %v, %d; want %v, %d (%v)", de.Rule, de.Limit, tt.rule, tt.limit, err)
			}
			if de.Input != tt.raw {
				t.Errorf("input = %q, want the raw input %q", de.Input, tt.raw)
			}
			if !got.IsZero() {
				t.Errorf("returned non-zero name %q with its error", got)
			}
		})
	}
}

var (
	accountID = id.New[id.Account]()
	gameID    = id.New[id.Game]()
	// t0 has nanoseconds and a zone, which New must drop.
	t0 = time.Date(2025, 3, 4, 12, 30, 45, 123456789, time.FixedZone("CET", 3600))
)

func mustKey(t *testing.T, kind identity.Kind, raw string) identity.ExternalKey {
	t.Helper()
	k, err := identity.NewExternalKey(kind, raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustName(t *testing.T, raw string) identity.DisplayName {
	t.Helper()
	n, err := identity.ParseDisplayName(raw)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func newIdentity(t *testing.T, name string) *identity.Identity {
	t.Helper()
	var dn identity.DisplayName
	if name != "" {
		dn = mustName(t, name)
	}
	i, err := identity.New(accountID, gameID, mustKey(t, identity.KindDevice, "device-0001"), dn, t0)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func TestNew(t *testing.T) {
	t.Parallel()
	key := mustKey(t, identity.KindSteam, "76561197960287930")
	name := mustName(t, "Alice")
	i, err := identity.New(accountID, gameID, key, name, t0)
	if err != nil {
		t.Fatal(err)
	}
	wantTime := time.Date(2025, 3, 4, 11, 30, 45, 123456000, time.UTC)
	checks := []struct {
		what      string
		got, want any
	}{
		{"account", i.AccountID(), accountID},
		{"game", i.GameID(), gameID},
		{"kind", i.Kind(), identity.KindSteam},
		{"external key", i.ExternalKey(), key},
		{"display name", i.DisplayName(), name},
		{"created_at", i.CreatedAt(), wantTime},
		{"updated_at", i.UpdatedAt(), wantTime},
		{"created_at location", i.CreatedAt().Location(), time.UTC},
		{"deleted", i.IsDeleted(), false},
		{"deleted_at zero", i.DeletedAt().IsZero(), true},
		{"id version digit", i.ID().UUID().String()[14], byte('7')},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if i.ID().IsZero() {
		t.Error("new identity has no ID")
	}

	other, err := identity.New(accountID, gameID, key, name, t0)
	if err != nil {
		t.Fatal(err)
	}
	if other.ID() == i.ID() {
		t.Error("two identities got the same ID")
	}
}

func TestNewWithoutDisplayName(t *testing.T) {
	t.Parallel()
	i, err := identity.New(accountID, gameID, mustKey(t, identity.KindCustom, "player-1"), identity.DisplayName{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !i.DisplayName().IsZero() || i.DisplayName().String() != "" {
		t.Errorf("display name = %q, want none", i.DisplayName())
	}
}

func TestNewRequiresItsParts(t *testing.T) {
	t.Parallel()
	key := mustKey(t, identity.KindDevice, "device-0001")
	tests := []struct {
		name    string
		account id.AccountID
		game    id.GameID
		key     identity.ExternalKey
		field   string
	}{
		{"no account", id.AccountID{}, gameID, key, "account_id"},
		{"no game", accountID, id.GameID{}, key, "game_id"},
		{"no key", accountID, gameID, identity.ExternalKey{}, "external_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			i, err := identity.New(tt.account, tt.game, tt.key, identity.DisplayName{}, t0)
			if i != nil {
				t.Errorf("got identity %v with an error", i)
			}
			de := invalidErr(t, err)
			if de.Field != tt.field || de.Rule != domain.Required {
				t.Errorf("field, rule = %q, %v; want %q, Required", de.Field, de.Rule, tt.field)
			}
		})
	}
}

func TestRename(t *testing.T) {
	t.Parallel()
	later := t0.Add(time.Hour + 999*time.Nanosecond)
	tests := []struct {
		name        string
		initial     string
		rename      string
		wantChanged bool
		wantName    string
		wantUpdated time.Time
	}{
		{"new name", "Alice", "Bob", true, "Bob", domain.Timestamp(later)},
		{"first name", "", "Bob", true, "Bob", domain.Timestamp(later)},
		{"same name", "Alice", "Alice", false, "Alice", domain.Timestamp(t0)},
		{"same name after normalising", "Alice", "  Alice\u00a0", false, "Alice", domain.Timestamp(t0)},
		{"same name decomposed", "José", "Jose\u0301", false, "José", domain.Timestamp(t0)},
		{"case differs", "alice", "Alice", true, "Alice", domain.Timestamp(later)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			i := newIdentity(t, tt.initial)
			created := i.CreatedAt()
			changed, err := i.Rename(mustName(t, tt.rename), later)
			if err != nil {
				t.Fatal(err)
			}
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if i.DisplayName().String() != tt.wantName {
				t.Errorf("name = %q, want %q", i.DisplayName(), tt.wantName)
			}
			if !i.UpdatedAt().Equal(tt.wantUpdated) || i.UpdatedAt().Location() != time.UTC {
				t.Errorf("updated_at = %v, want %v UTC", i.UpdatedAt(), tt.wantUpdated)
			}
			if !i.CreatedAt().Equal(created) {
				t.Errorf("created_at moved from %v to %v", created, i.CreatedAt())
			}
		})
	}
}

func TestRenameToNothingIsMissing(t *testing.T) {
	t.Parallel()
	i := newIdentity(t, "Alice")
	changed, err := i.Rename(identity.DisplayName{}, t0.Add(time.Hour))
	de := invalidErr(t, err)
	if de.Field != "display_name" || de.Rule != domain.Required {
		t.Errorf("field, rule = %q, %v", de.Field, de.Rule)
	}
	if changed || i.DisplayName().String() != "Alice" {
		t.Errorf("changed = %v, name = %q; want unchanged", changed, i.DisplayName())
	}
}

func TestRenameDeleted(t *testing.T) {
	t.Parallel()
	i := newIdentity(t, "Alice")
	deletedAt := t0.Add(time.Minute)
	if err := i.Delete(deletedAt); err != nil {
		t.Fatal(err)
	}
	changed, err := i.Rename(mustName(t, "Bob"), t0.Add(time.Hour))
	if !errors.Is(err, identity.ErrDeleted) {
		t.Fatalf("Rename of a deleted identity: err = %v, want ErrDeleted", err)
	}
	if domain.CategoryOf(err) != domain.CategoryConflict {
		t.Errorf("category = %v, want conflict", domain.CategoryOf(err))
	}
	if changed {
		t.Error("changed = true")
	}
	if i.DisplayName().String() != "Alice" || !i.UpdatedAt().Equal(domain.Timestamp(deletedAt)) {
		t.Errorf("deleted identity changed: name %q, updated_at %v", i.DisplayName(), i.UpdatedAt())
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	i := newIdentity(t, "Alice")
	at := time.Date(2025, 5, 6, 7, 8, 9, 987654321, time.FixedZone("X", -5*3600))
	if err := i.Delete(at); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2025, 5, 6, 12, 8, 9, 987654000, time.UTC)
	if !i.IsDeleted() {
		t.Error("IsDeleted = false after Delete")
	}
	if i.DeletedAt() != want {
		t.Errorf("deleted_at = %v, want %v", i.DeletedAt(), want)
	}
	if i.UpdatedAt() != want {
		t.Errorf("updated_at = %v, want %v", i.UpdatedAt(), want)
	}
	if i.CreatedAt() != domain.Timestamp(t0) {
		t.Errorf("created_at = %v, want %v", i.CreatedAt(), domain.Timestamp(t0))
	}

	err := i.Delete(at.Add(time.Hour))
	if !errors.Is(err, identity.ErrAlreadyDeleted) {
		t.Fatalf("second Delete: err = %v, want ErrAlreadyDeleted", err)
	}
	if i.DeletedAt() != want || i.UpdatedAt() != want {
		t.Errorf("second Delete moved deleted_at/updated_at to %v/%v", i.DeletedAt(), i.UpdatedAt())
	}
}

func TestSnapshotRehydrateRoundTrip(t *testing.T) {
	t.Parallel()
	live := newIdentity(t, "Alice")
	deleted := newIdentity(t, "")
	if err := deleted.Delete(t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for name, orig := range map[string]*identity.Identity{"live": live, "deleted": deleted} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			snap := orig.Snapshot()
			back := identity.Rehydrate(snap)
			if back.Snapshot() != snap {
				t.Errorf("round trip changed the snapshot:\n got %+v\nwant %+v", back.Snapshot(), snap)
			}
			if back.ID() != orig.ID() || back.Kind() != orig.Kind() ||
				back.ExternalKey() != orig.ExternalKey() || back.DisplayName() != orig.DisplayName() ||
				back.IsDeleted() != orig.IsDeleted() {
				t.Errorf("rehydrated identity differs from the original")
			}
		})
	}
	snap := live.Snapshot()
	if snap.ID != live.ID() || snap.AccountID != accountID || snap.GameID != gameID ||
		snap.Kind != identity.KindDevice || snap.ExternalKey != "device-0001" ||
		snap.DisplayName != "Alice" || snap.CreatedAt != domain.Timestamp(t0) ||
		snap.UpdatedAt != domain.Timestamp(t0) || !snap.DeletedAt.IsZero() {
		t.Errorf("snapshot = %+v", snap)
	}
}

func TestRehydrateBringsTimesToUTC(t *testing.T) {
	t.Parallel()
	zone := time.FixedZone("Y", 2*3600)
	at := time.Date(2024, 1, 2, 3, 4, 5, 6000, zone)
	i := identity.Rehydrate(identity.Snapshot{
		ID: id.New[id.Identity](), AccountID: accountID, GameID: gameID,
		Kind: identity.KindCustom, ExternalKey: "abcdef", DisplayName: "",
		CreatedAt: at, UpdatedAt: at, DeletedAt: at,
	})
	for what, got := range map[string]time.Time{"created_at": i.CreatedAt(), "updated_at": i.UpdatedAt(), "deleted_at": i.DeletedAt()} {
		if got.Location() != time.UTC || !got.Equal(at) {
			t.Errorf("%s = %v, want %v in UTC", what, got, at)
		}
	}
	if !i.IsDeleted() || !i.DisplayName().IsZero() {
		t.Errorf("IsDeleted = %v, display name = %q", i.IsDeleted(), i.DisplayName())
	}
	// A deleted rehydrated identity keeps its state rules.
	if err := i.Delete(at.Add(time.Hour)); !errors.Is(err, identity.ErrAlreadyDeleted) {
		t.Errorf("Delete of rehydrated deleted identity: %v", err)
	}
}
