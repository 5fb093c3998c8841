package httpapi

import (
	"time"

	"github.com/leadr-oss/identity/application/paging"
	"github.com/leadr-oss/identity/domain/identity"
	"github.com/leadr-oss/identity/domain/tenancy"
)

// Response bodies. Domain types are never serialised directly.

type identityDTO struct {
	ID          string  `json:"id"`
	AccountID   string  `json:"account_id"`
	GameID      string  `json:"game_id"`
	Kind        string  `json:"kind"`
	ExternalKey string  `json:"external_key"`
	DisplayName *string `json:"display_name"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
}

// timestampLayout is RFC 3339 in UTC with up to microseconds.
const timestampLayout = "2006-01-02T15:04:05.999999Z07:00"

func timestamp(t time.Time) string { return t.UTC().Format(timestampLayout) }

func optionalTimestamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := timestamp(t)
	return &s
}

func toIdentityDTO(i *identity.Identity) identityDTO {
	dto := identityDTO{
		ID:          i.ID().String(),
		AccountID:   i.AccountID().String(),
		GameID:      i.GameID().String(),
		Kind:        i.Kind().String(),
		ExternalKey: i.ExternalKey().String(),
		CreatedAt:   timestamp(i.CreatedAt()),
		UpdatedAt:   timestamp(i.UpdatedAt()),
	}
	if dn := i.DisplayName(); !dn.IsZero() {
		s := dn.String()
		dto.DisplayName = &s
	}
	return dto
}

type accountDTO struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Slug      string `json:"slug"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

func toAccountDTO(a *tenancy.Account) accountDTO {
	return accountDTO{ID: a.ID().String(), Name: a.Name(), Slug: a.Slug(),
		CreatedAt: timestamp(a.CreatedAt()), UpdatedAt: timestamp(a.UpdatedAt())}
}

type userDTO struct {
	ID          string `json:"id"`
	AccountID   string `json:"account_id"`
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	SuperAdmin  bool   `json:"super_admin"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
}

func toUserDTO(u *tenancy.User) userDTO {
	return userDTO{ID: u.ID().String(), AccountID: u.AccountID().String(), Email: u.Email(),
		DisplayName: u.DisplayName(), SuperAdmin: u.SuperAdmin(),
		CreatedAt: timestamp(u.CreatedAt()), UpdatedAt: timestamp(u.UpdatedAt())}
}

type apiKeyDTO struct {
	ID        string  `json:"id"`
	AccountID string  `json:"account_id"`
	UserID    string  `json:"user_id"`
	Name      string  `json:"name"`
	KeyPrefix string  `json:"key_prefix"`
	Status    string  `json:"status"`
	ExpiresAt *string `json:"expires_at"`
	CreatedAt string  `json:"created_at"`
	UpdatedAt string  `json:"updated_at"`
}

// createdAPIKeyDTO is the only body that ever holds a key's plaintext.
type createdAPIKeyDTO struct {
	apiKeyDTO
	Key string `json:"key"`
}

func toAPIKeyDTO(k *tenancy.APIKey) apiKeyDTO {
	return apiKeyDTO{ID: k.ID().String(), AccountID: k.AccountID().String(), UserID: k.UserID().String(),
		Name: k.Name(), KeyPrefix: k.Prefix(), Status: k.Status().String(), ExpiresAt: optionalTimestamp(k.ExpiresAt()),
		CreatedAt: timestamp(k.CreatedAt()), UpdatedAt: timestamp(k.UpdatedAt())}
}

type paginationDTO struct {
	NextCursor *string `json:"next_cursor"`
	PrevCursor *string `json:"prev_cursor"`
	HasNext    bool    `json:"has_next"`
	HasPrev    bool    `json:"has_prev"`
	Count      int     `json:"count"`
}

type pageDTO[D any] struct {
	Data       []D           `json:"data"`
	Pagination paginationDTO `json:"pagination"`
}

func toPageDTO[T, D any](p paging.Page[T], toDTO func(T) D) pageDTO[D] {
	data := make([]D, len(p.Items))
	for i, item := range p.Items {
		data[i] = toDTO(item)
	}
	dto := pageDTO[D]{Data: data, Pagination: paginationDTO{HasNext: p.HasNext, HasPrev: p.HasPrev, Count: len(data)}}
	if p.Next != "" {
		dto.Pagination.NextCursor = &p.Next
	}
	if p.Prev != "" {
		dto.Pagination.PrevCursor = &p.Prev
	}
	return dto
}
