// Package cursor implements paging.Cursors with HMAC-signed cursors and
// reads pages with them: the use cases' half of keyset pagination.
package cursor

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/leadr-oss/identity/domain"
	"github.com/leadr-oss/identity/domain/id"
	"github.com/leadr-oss/identity/ports/paging"
)

var (
	ErrInvalidCursor = domain.BadRequest("Invalid pagination cursor")
	ErrCursorState   = domain.BadRequest("Query parameters don't match cursor state. Start a new pagination sequence.")
)

// state is what a cursor carries. Resource, sort and filter are compared
// with the request that presents the cursor; a cursor only continues the
// sequence it came from.
type state struct {
	Resource  string            `json:"r"`
	Sort      string            `json:"s"`
	Filter    string            `json:"f"`
	Backward  bool              `json:"b,omitempty"`
	Inclusive bool              `json:"i,omitempty"`
	Within    int               `json:"w,omitempty"`
	Position  []json.RawMessage `json:"p"`
}

// Codec signs and checks cursors with a secret shared by every replica.
type Codec struct {
	key []byte
}

const macLen = 16 // a 128-bit tag is plenty against forgery

func NewCodec(secret []byte) *Codec {
	return &Codec{key: bytes.Clone(secret)}
}

func (c *Codec) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(payload)
	return m.Sum(nil)[:macLen]
}

var _ paging.Cursors = (*Codec)(nil)

// Cursor is the token of a request that resumes at req's position.
func (c *Codec) Cursor(spec *paging.Spec, req paging.Request, filter string) string {
	st := state{
		Resource: spec.Resource(), Sort: req.Sort.String(), Filter: filter,
		Backward: req.Backward, Inclusive: req.Inclusive, Within: req.Within,
		Position: make([]json.RawMessage, len(req.After)),
	}
	for i, v := range req.After {
		st.Position[i] = encodeValue(v)
	}
	payload, err := json.Marshal(st)
	if err != nil {
		panic("paging: encode cursor: " + err.Error()) // only plain values go in
	}
	return base64.RawURLEncoding.EncodeToString(append(payload, c.mac(payload)...))
}

func encodeValue(v any) json.RawMessage {
	var out any
	switch v := v.(type) {
	case nil:
		out = nil
	case string:
		out = v
	case time.Time:
		out = v.UnixMicro()
	case id.UUID:
		out = v.String()
	default:
		panic("paging: unsupported position value")
	}
	b, _ := json.Marshal(out)
	return b
}

// decode checks the signature and the resource and returns the state with
// its position decoded by the types of sort.
func (c *Codec) decode(spec *paging.Spec, token string) (state, paging.Position, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	// One spelling per cursor: no line breaks, no stray padding bits.
	if err != nil || len(raw) <= macLen || base64.RawURLEncoding.EncodeToString(raw) != token {
		return state{}, nil, ErrInvalidCursor
	}
	payload, tag := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	if !hmac.Equal(tag, c.mac(payload)) {
		return state{}, nil, ErrInvalidCursor
	}
	var st state
	if err := json.Unmarshal(payload, &st); err != nil || st.Resource != spec.Resource() {
		return state{}, nil, ErrInvalidCursor
	}
	sort, err := spec.ParseSort(st.Sort)
	if err != nil || len(sort) != len(st.Position) || st.Within < 0 || st.Within > len(sort) {
		return state{}, nil, ErrInvalidCursor
	}
	pos := make(paging.Position, len(sort))
	for i, k := range sort {
		v, ok := decodeValue(spec.Type(k.Field), st.Position[i])
		if !ok {
			return state{}, nil, ErrInvalidCursor
		}
		pos[i] = v
	}
	return st, pos, nil
}

func decodeValue(t paging.FieldType, raw json.RawMessage) (any, bool) {
	if string(raw) == "null" {
		return nil, t == paging.NullableString
	}
	switch t {
	case paging.String, paging.NullableString:
		var s string
		return s, json.Unmarshal(raw, &s) == nil
	case paging.Time:
		var micros int64
		if json.Unmarshal(raw, &micros) != nil {
			return nil, false
		}
		return time.UnixMicro(micros).UTC(), true
	case paging.UUID:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		return id.ParseUUID(s)
	}
	return nil, false
}
