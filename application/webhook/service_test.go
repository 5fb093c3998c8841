package webhook_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/application/apptest"
	"github.com/leadr-oss/identity/application/auth"
	"github.com/leadr-oss/identity/application/cursor"
	appwebhook "github.com/leadr-oss/identity/application/webhook"
	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/domain/tenancy"
	"github.com/leadr-oss/identity/domain/webhook"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/ports/paging"
)

// memRepo keeps webhooks as snapshots, as a store would, and counts the
// writes that reach it.
type memRepo struct {
	mu     sync.Mutex
	rows   map[id.WebhookID]webhook.Snapshot
	writes int
}

func (r *memRepo) Create(_ context.Context, w *webhook.Webhook) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows[w.ID()] = w.Snapshot()
	r.writes++
	return nil
}

func (r *memRepo) Get(_ context.Context, wid id.WebhookID) (*webhook.Webhook, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.rows[wid]
	if !ok || !s.DeletedAt.IsZero() {
		return nil, webhook.ErrNotFound
	}
	return webhook.Rehydrate(s), nil
}

func (r *memRepo) Update(ctx context.Context, wid id.WebhookID, fn func(*webhook.Webhook) error) (*webhook.Webhook, error) {
	w, err := r.Get(ctx, wid)
	if err != nil {
		return nil, err
	}
	if err := fn(w); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows[wid] = w.Snapshot()
	r.writes++
	return w, nil
}

func (r *memRepo) List(_ context.Context, f ports.WebhookFilter, req paging.Request) (paging.Result[*webhook.Webhook], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var items []*webhook.Webhook
	for _, s := range r.rows {
		if s.DeletedAt.IsZero() && (f.AccountID.IsZero() || s.AccountID == f.AccountID) {
			items = append(items, webhook.Rehydrate(s))
		}
	}
	return apptest.Page(items, req, ports.WebhookSchema), nil
}

func (r *memRepo) writeCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writes
}

// urlCheck refuses the URLs in refuse and records what it was asked.
type urlCheck struct {
	refuse  map[string]error
	checked []string
}

func (u *urlCheck) CheckURL(_ context.Context, url webhook.URL) error {
	u.checked = append(u.checked, url.String())
	return u.refuse[url.String()]
}

// replays records what the service asks of the queue. Only the methods
// the service calls are written.
type replays struct {
	ports.DeliveryQueue
	replayed []ports.Replay
	listed   []id.WebhookID
}

func (q *replays) Replay(_ context.Context, _ *webhook.Webhook, r ports.Replay, _ time.Time) error {
	q.replayed = append(q.replayed, r)
	return nil
}

func (q *replays) List(_ context.Context, w id.WebhookID, _ paging.Request) (paging.Result[*webhook.Delivery], error) {
	q.listed = append(q.listed, w)
	return paging.Result[*webhook.Delivery]{}, nil
}

type serviceEnv struct {
	svc           *appwebhook.Service
	repo          *memRepo
	urls          *urlCheck
	queue         *replays
	acme, other   id.AccountID
	regular       tenancy.Principal // of acme
	intruder      tenancy.Principal // of other
	super         tenancy.Principal
	ctx           context.Context
	validURL      string
	validTypes    []string
	privateURL    string
	errPrivateURL error
}

func newServiceEnv() *serviceEnv {
	e := &serviceEnv{
		repo:  &memRepo{rows: map[id.WebhookID]webhook.Snapshot{}},
		queue: &replays{},
		acme:  id.New[id.Account](), other: id.New[id.Account](),
		ctx:      context.Background(),
		validURL: "https://example.com/hooks", validTypes: []string{"identity.*", "player.banned"},
		privateURL: "https://10.0.0.1/hooks", errPrivateURL: domain.Rejected("url", "URL must resolve to a public address", "https://10.0.0.1/hooks"),
	}
	e.urls = &urlCheck{refuse: map[string]error{e.privateURL: e.errPrivateURL}}
	e.regular = tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: id.New[id.User](), AccountID: e.acme}
	e.intruder = tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: id.New[id.User](), AccountID: e.other}
	e.super = tenancy.Principal{KeyID: id.New[id.APIKey](), UserID: id.New[id.User](), AccountID: id.New[id.Account](), SuperAdmin: true}
	e.svc = appwebhook.NewService(e.repo, e.queue, e.urls, fakeCipher{}, cursor.NewCodec([]byte("cursor secret")), fixedClock)
	return e
}

func (e *serviceEnv) create(t *testing.T) ports.NewSecret {
	t.Helper()
	created, err := e.svc.Create(e.ctx, e.regular, ports.CreateWebhook{URL: e.validURL, EventTypes: e.validTypes})
	if err != nil {
		t.Fatal(err)
	}
	return created
}

// opens asserts that sealed is secret, sealed for webhook w.
func opens(t *testing.T, sealed []byte, w id.WebhookID, secret string) {
	t.Helper()
	plain, err := fakeCipher{}.Open(sealed, []byte(w.String()))
	if err != nil {
		t.Fatalf("the secret does not open for its webhook: %v", err)
	}
	s, err := webhook.SecretFromBytes(plain)
	if err != nil || s.Reveal() != secret {
		t.Errorf("the sealed secret is not the one shown (%v)", err)
	}
}

func TestCreateShowsTheSecretOnceAndKeepsItSealed(t *testing.T) {
	e := newServiceEnv()
	description := "orders"
	created, err := e.svc.Create(e.ctx, e.regular, ports.CreateWebhook{URL: e.validURL, EventTypes: e.validTypes, Description: &description})
	if err != nil {
		t.Fatal(err)
	}
	w := created.Webhook
	if w.AccountID() != e.acme || w.URL().String() != e.validURL || !slices.Equal(w.EventTypes().Patterns(), e.validTypes) ||
		w.Description() == nil || *w.Description() != description || w.Status() != webhook.Enabled || !w.CreatedAt().Equal(now.Truncate(time.Microsecond)) {
		t.Errorf("created %+v", w.Snapshot())
	}
	if _, err := webhook.ParseSecret(created.Secret); err != nil {
		t.Fatalf("secret: %v", err)
	}
	stored, err := e.repo.Get(e.ctx, w.ID())
	if err != nil {
		t.Fatal(err)
	}
	opens(t, stored.SealedSecret(), w.ID(), created.Secret)
	if !slices.Equal(e.urls.checked, []string{e.validURL}) {
		t.Errorf("URLs checked %q, want the new one", e.urls.checked)
	}
	if again := e.create(t); again.Secret == created.Secret {
		t.Error("two webhooks got the same secret")
	}
}

// refused asserts that err is a 422 of the fields invalid, in order, or,
// when there are none, that it is want.
func refused(t *testing.T, err error, invalid []string, want error) {
	t.Helper()
	if invalid == nil {
		if !errors.Is(err, want) {
			t.Errorf("got %v, want %v", err, want)
		}
		return
	}
	var fields []string
	for _, de := range apptest.InvalidErrors(t, err) {
		fields = append(fields, de.Field)
	}
	if !slices.Equal(fields, invalid) {
		t.Errorf("invalid %q, want %q", fields, invalid)
	}
}

func TestCreateRefuses(t *testing.T) {
	e := newServiceEnv()
	bad := strings.Repeat("x", 501)
	for _, c := range []struct {
		name    string
		p       tenancy.Principal
		req     ports.CreateWebhook
		invalid []string // the fields of the 422, in order; none for another error
		err     error
		checked bool // whether the URL got as far as its check
	}{
		{"every bad field at once", e.regular,
			ports.CreateWebhook{URL: "ftp://example.com", EventTypes: []string{"*"}, Description: &bad},
			[]string{"url", "event_types", "description"}, nil, false},
		{"another tenant's account", e.regular,
			ports.CreateWebhook{AccountID: e.other, URL: e.validURL, EventTypes: e.validTypes}, nil, auth.ErrAccountDenied, false},
		{"bad fields before another tenant's account", e.regular,
			ports.CreateWebhook{AccountID: e.other, URL: "/hooks", EventTypes: e.validTypes}, []string{"url"}, nil, false},
		{"a superadmin that names no account", e.super,
			ports.CreateWebhook{URL: "/hooks", EventTypes: e.validTypes}, []string{"url", "account_id"}, nil, false},
		{"a URL the deployment does not allow", e.regular,
			ports.CreateWebhook{URL: e.privateURL, EventTypes: e.validTypes}, nil, e.errPrivateURL, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.urls.checked = nil
			created, err := e.svc.Create(e.ctx, c.p, c.req)
			refused(t, err, c.invalid, c.err)
			if created.Webhook != nil || created.Secret != "" || e.repo.writeCount() != 0 {
				t.Errorf("refused, yet created %+v (%d writes)", created.Webhook, e.repo.writeCount())
			}
			if checked := len(e.urls.checked) > 0; checked != c.checked {
				t.Errorf("URL checked: %v, want %v", checked, c.checked)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	e := newServiceEnv()
	w := e.create(t).Webhook
	other, disabled := "https://example.org/other", "disabled"

	got, err := e.svc.Update(e.ctx, e.regular, ports.UpdateWebhook{ID: w.ID(), URL: &other, Status: &disabled,
		Description: ports.Setting{Given: true, Value: &other}})
	if err != nil {
		t.Fatal(err)
	}
	if got.URL().String() != other || got.Status() != webhook.Disabled || *got.Description() != other {
		t.Errorf("updated to %+v", got.Snapshot())
	}
	if e.urls.checked[len(e.urls.checked)-1] != other {
		t.Errorf("the new URL was not checked: %q", e.urls.checked)
	}
	if stored, _ := e.repo.Get(e.ctx, w.ID()); stored.URL().String() != other {
		t.Errorf("stored URL %s, want %s", stored.URL(), other)
	}

	// Nothing asked is a read.
	writes := e.repo.writeCount()
	if got, err := e.svc.Update(e.ctx, e.regular, ports.UpdateWebhook{ID: w.ID()}); err != nil || got.ID() != w.ID() {
		t.Errorf("empty update: %v, %v", got, err)
	}
	if e.repo.writeCount() != writes {
		t.Error("an empty update wrote")
	}
}

func TestUpdateRefuses(t *testing.T) {
	e := newServiceEnv()
	w := e.create(t).Webhook
	before, _ := e.repo.Get(e.ctx, w.ID())
	writes := e.repo.writeCount()
	paused, other := "paused", "https://example.org/other"
	for _, c := range []struct {
		name    string
		p       tenancy.Principal
		req     ports.UpdateWebhook
		invalid []string
		err     error
	}{
		{"bad fields", e.regular, ports.UpdateWebhook{ID: w.ID(), Status: &paused, EventTypes: []string{}}, []string{"event_types", "status"}, nil},
		{"another tenant's webhook", e.intruder, ports.UpdateWebhook{ID: w.ID(), URL: &other}, nil, webhook.ErrForbidden},
		{"deleted by another tenant", e.intruder, ports.UpdateWebhook{ID: w.ID(), Delete: true}, nil, webhook.ErrForbidden},
		{"naming another tenant's account", e.regular, ports.UpdateWebhook{ID: w.ID(), AccountID: e.other, URL: &other}, nil, auth.ErrAccountDenied},
		{"a superadmin naming another account", e.super, ports.UpdateWebhook{ID: w.ID(), AccountID: e.other, URL: &other}, nil, webhook.ErrNotFound},
		{"a URL the deployment does not allow", e.regular, ports.UpdateWebhook{ID: w.ID(), URL: &e.privateURL}, nil, e.errPrivateURL},
		{"an unknown webhook", e.regular, ports.UpdateWebhook{ID: id.New[id.Webhook](), URL: &other}, nil, webhook.ErrNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.svc.Update(e.ctx, c.p, c.req)
			refused(t, err, c.invalid, c.err)
			if after, err := e.repo.Get(e.ctx, w.ID()); err != nil || !after.UpdatedAt().Equal(before.UpdatedAt()) || after.URL() != before.URL() ||
				e.repo.writeCount() != writes {
				t.Errorf("refused, yet the webhook changed: %v", err)
			}
		})
	}
}

func TestDeleteMakesTheWebhookUnknown(t *testing.T) {
	e := newServiceEnv()
	w := e.create(t).Webhook
	if _, err := e.svc.Update(e.ctx, e.regular, ports.UpdateWebhook{ID: w.ID(), Delete: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(e.ctx, e.regular, ports.GetWebhook{ID: w.ID()}); !errors.Is(err, webhook.ErrNotFound) {
		t.Errorf("Get after delete = %v, want ErrNotFound", err)
	}
	if _, err := e.svc.Update(e.ctx, e.regular, ports.UpdateWebhook{ID: w.ID(), Delete: true}); !errors.Is(err, webhook.ErrNotFound) {
		t.Errorf("second delete = %v, want ErrNotFound", err)
	}
}

func TestGetAndList(t *testing.T) {
	e := newServiceEnv()
	w := e.create(t).Webhook
	theirs, err := e.svc.Create(e.ctx, e.intruder, ports.CreateWebhook{URL: e.validURL, EventTypes: e.validTypes})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		p    tenancy.Principal
		q    ports.GetWebhook
		err  error
	}{
		{"its own", e.regular, ports.GetWebhook{ID: w.ID()}, nil},
		{"its own, naming its account", e.regular, ports.GetWebhook{ID: w.ID(), AccountID: e.acme}, nil},
		{"another tenant's", e.intruder, ports.GetWebhook{ID: w.ID()}, webhook.ErrForbidden},
		{"a superadmin", e.super, ports.GetWebhook{ID: w.ID()}, nil},
		{"a superadmin naming another account", e.super, ports.GetWebhook{ID: w.ID(), AccountID: e.other}, webhook.ErrNotFound},
	} {
		got, err := e.svc.Get(e.ctx, c.p, c.q)
		if !errors.Is(err, c.err) || err == nil && got.ID() != w.ID() {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.err)
		}
	}

	ids := func(p tenancy.Principal, account id.AccountID) []id.WebhookID {
		page, err := e.svc.List(e.ctx, p, ports.ListWebhooks{AccountID: account})
		if err != nil {
			t.Fatal(err)
		}
		var out []id.WebhookID
		for _, w := range page.Items {
			out = append(out, w.ID())
		}
		slices.SortFunc(out, func(a, b id.WebhookID) int { return strings.Compare(a.String(), b.String()) })
		return out
	}
	if got := ids(e.regular, id.AccountID{}); !slices.Equal(got, []id.WebhookID{w.ID()}) {
		t.Errorf("a tenant lists %v, want its own alone", got)
	}
	if got := ids(e.super, e.other); !slices.Equal(got, []id.WebhookID{theirs.Webhook.ID()}) {
		t.Errorf("a superadmin naming an account lists %v, want that account's", got)
	}
	if _, err := e.svc.List(e.ctx, e.regular, ports.ListWebhooks{AccountID: e.other}); !errors.Is(err, auth.ErrAccountDenied) {
		t.Errorf("listing another tenant's = %v, want ErrAccountDenied", err)
	}
}

func TestRotateSecretKeepsTheOldOneSigningBeside(t *testing.T) {
	e := newServiceEnv()
	created := e.create(t)
	w := created.Webhook
	if _, err := e.svc.RotateSecret(e.ctx, e.intruder, ports.GetWebhook{ID: w.ID()}); !errors.Is(err, webhook.ErrForbidden) {
		t.Errorf("another tenant's rotation = %v, want ErrForbidden", err)
	}
	if stored, _ := e.repo.Get(e.ctx, w.ID()); len(stored.Secrets(now)) != 1 {
		t.Fatal("a refused rotation changed the secrets")
	}

	rotated, err := e.svc.RotateSecret(e.ctx, e.regular, ports.GetWebhook{ID: w.ID()})
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Secret == created.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") {
		t.Fatal("the rotation showed no new secret")
	}
	stored, _ := e.repo.Get(e.ctx, w.ID())
	secrets := stored.Secrets(now)
	if len(secrets) != 2 {
		t.Fatalf("%d secrets sign after a rotation, want 2", len(secrets))
	}
	opens(t, secrets[0], w.ID(), rotated.Secret)
	opens(t, secrets[1], w.ID(), created.Secret)
	if !stored.PreviousUntil().Equal(now.Truncate(time.Microsecond).Add(webhook.RotationOverlap)) {
		t.Errorf("the old secret signs until %v, want a day from now", stored.PreviousUntil())
	}
}

func TestReplay(t *testing.T) {
	e := newServiceEnv()
	w := e.create(t).Webhook
	eventID := id.New[id.Event]()
	since := now.Add(-time.Hour)
	for _, c := range []struct {
		name    string
		p       tenancy.Principal
		req     ports.ReplayWebhook
		invalid string
		err     error
		want    *ports.Replay
	}{
		{"one event", e.regular, ports.ReplayWebhook{WebhookID: w.ID(), EventID: eventID}, "", nil, &ports.Replay{EventID: eventID, Until: now}},
		{"since a time", e.regular, ports.ReplayWebhook{WebhookID: w.ID(), Since: since}, "", nil, &ports.Replay{Since: since, Until: now}},
		{"neither", e.regular, ports.ReplayWebhook{WebhookID: w.ID()}, "event_id", nil, nil},
		{"both", e.regular, ports.ReplayWebhook{WebhookID: w.ID(), EventID: eventID, Since: since}, "since", nil, nil},
		{"another tenant's webhook", e.intruder, ports.ReplayWebhook{WebhookID: w.ID(), EventID: eventID}, "", webhook.ErrForbidden, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.queue.replayed = nil
			err := e.svc.Replay(e.ctx, c.p, c.req)
			switch {
			case c.invalid != "":
				if errs := apptest.InvalidErrors(t, err); len(errs) != 1 || errs[0].Field != c.invalid {
					t.Errorf("got %v, want an invalid %s", err, c.invalid)
				}
			case !errors.Is(err, c.err):
				t.Errorf("got %v, want %v", err, c.err)
			}
			var want []ports.Replay
			if c.want != nil {
				want = []ports.Replay{*c.want}
			}
			if !slices.Equal(e.queue.replayed, want) {
				t.Errorf("replayed %+v, want %+v", e.queue.replayed, want)
			}
		})
	}
}

func TestDeliveriesAreTheOwnersOnly(t *testing.T) {
	e := newServiceEnv()
	w := e.create(t).Webhook
	if _, err := e.svc.Deliveries(e.ctx, e.intruder, ports.ListDeliveries{WebhookID: w.ID()}); !errors.Is(err, webhook.ErrForbidden) {
		t.Errorf("another tenant's log = %v, want ErrForbidden", err)
	}
	if len(e.queue.listed) != 0 {
		t.Fatalf("the log was read for another tenant")
	}
	if _, err := e.svc.Deliveries(e.ctx, e.regular, ports.ListDeliveries{WebhookID: w.ID()}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.queue.listed, []id.WebhookID{w.ID()}) {
		t.Errorf("logs read %v, want %v", e.queue.listed, w.ID())
	}
}
