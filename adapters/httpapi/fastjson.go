package httpapi

import (
	"encoding/json"
	"reflect"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/leadr-oss/identity/wire"
)

// encoders write the hottest answers' JSON without reflection: encoding
// a page of identities was a fifth of a list request's CPU in leadr-bench's
// profiles. Each writes exactly the bytes encoding/json writes for its type
// (TestEncodersWriteWhatEncodingJSONWrites, FuzzIdentityEncoder); the other
// types go through encoding/json.
var encoders = map[reflect.Type]any{
	reflect.TypeFor[wire.Identity](): appendIdentity,
}

// encoderOf returns the encoder of W, if it has one.
func encoderOf[W any]() (func([]byte, W) []byte, bool) {
	enc, ok := encoders[reflect.TypeFor[W]()].(func([]byte, W) []byte)
	return enc, ok
}

func appendIdentity(b []byte, w wire.Identity) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, w.ID)
	b = append(b, `,"account_id":`...)
	b = appendString(b, w.AccountID)
	b = append(b, `,"game_id":`...)
	b = appendString(b, w.GameID)
	b = append(b, `,"player_id":`...)
	b = appendString(b, w.PlayerID)
	b = append(b, `,"kind":`...)
	b = appendString(b, w.Kind)
	b = append(b, `,"external_key":`...)
	b = appendString(b, w.ExternalKey)
	b = append(b, `,"display_name":`...)
	b = appendOptionalString(b, w.DisplayName)
	b = append(b, `,"created_at":`...)
	b = appendTime(b, w.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendTime(b, w.UpdatedAt)
	return append(b, '}')
}

// appendPage writes a wire.Page[W] as encoding/json would.
func appendPage[W any](b []byte, p wire.Page[W], enc func([]byte, W) []byte) []byte {
	b = append(b, `{"data":[`...)
	for i, w := range p.Data {
		if i > 0 {
			b = append(b, ',')
		}
		b = enc(b, w)
	}
	b = append(b, `],"pagination":{"next_cursor":`...)
	b = appendOptionalString(b, p.Pagination.NextCursor)
	b = append(b, `,"prev_cursor":`...)
	b = appendOptionalString(b, p.Pagination.PrevCursor)
	b = append(b, `,"has_next":`...)
	b = strconv.AppendBool(b, p.Pagination.HasNext)
	b = append(b, `,"has_prev":`...)
	b = strconv.AppendBool(b, p.Pagination.HasPrev)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(p.Pagination.Count), 10)
	return append(b, "}}"...)
}

func appendOptionalString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

// appendString quotes s. Printable ASCII that encoding/json leaves alone
// (it escapes ", \ and, for HTML, <, > and &) is copied; anything else, rare
// in IDs, keys and names, takes encoding/json's own escaping.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			quoted, _ := json.Marshal(s) // a string always marshals
			return append(b, quoted...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendTime writes t as time.Time's MarshalJSON does. The wire's times are
// UTC and truncated to microseconds (wireTime), always within its years.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}
