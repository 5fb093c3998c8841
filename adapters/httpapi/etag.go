package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/leadr-oss/identity/domain/identity"
)

// An identity's entity tag is a hash of the exact bytes answered for it,
// rather than a version column or its updated_at: it changes when the
// representation changes, and only then, by construction (a new wire
// format, or two writes within one microsecond, would fool a timestamp);
// every replica computes the same tag with no state to share; and it needs
// no migration. It is strong, since equal tags mean equal bytes. 128 bits
// of SHA-256 keep a stale tag from matching a newer version by chance.
func entityTag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// identityTag is the entity tag of the identity's answer.
func identityTag(i *identity.Identity) string {
	buf := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(buf)
	*buf = appendIdentity((*buf)[:0], toIdentity(i))
	return entityTag(*buf)
}

// writeIdentity answers one identity with its entity tag, or the error. A
// GET whose If-None-Match lists the tag is answered 304, with no body.
func writeIdentity(c *gin.Context, status int, i *identity.Identity, err error) {
	if err != nil {
		fail(c, err)
		return
	}
	buf := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(buf)
	*buf = appendIdentity((*buf)[:0], toIdentity(i))
	tag := entityTag(*buf)
	c.Header("ETag", tag)
	if c.Request.Method == http.MethodGet && noneMatch(c.Request.Header.Values("If-None-Match"), tag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(status, "application/json; charset=utf-8", *buf)
}

// ifMatch is the precondition an If-Match field sets on a change of an
// identity, nil when the request has none. A malformed field matches no
// tag: a condition the service cannot read must not let a write through.
func ifMatch(c *gin.Context) func(*identity.Identity) bool {
	lines := c.Request.Header.Values("If-Match")
	if len(lines) == 0 {
		return nil
	}
	tags, _ := parseETags(lines)
	return func(current *identity.Identity) bool {
		return tags.any || slices.Contains(tags.list, identityTag(current))
	}
}

// noneMatch reports whether an If-None-Match field lists tag, by weak
// comparison (RFC 9110, section 13.1.2). A malformed field is ignored, as
// if absent: the full answer is always a correct one.
func noneMatch(lines []string, tag string) bool {
	tags, ok := parseETags(lines)
	return ok && (tags.any || slices.ContainsFunc(tags.list, func(t string) bool { return strings.TrimPrefix(t, "W/") == tag }))
}

// etags is the value of an If-Match or If-None-Match field: "*", or a list
// of entity tags, each as sent (quotes and W/ included). Comparing one as
// a string with a tag of this service, which is strong, is the strong
// comparison of RFC 9110 (section 8.8.3.2): a weak tag matches none.
type etags struct {
	any  bool
	list []string
}

// parseETags reads a field's lines as one list (RFC 9110, section 5.3),
// or reports that they are malformed. Empty elements are skipped, as the
// list syntax allows.
func parseETags(lines []string) (etags, bool) {
	v := strings.Trim(strings.Join(lines, ","), " \t")
	if v == "*" {
		return etags{any: true}, true
	}
	var t etags
	for {
		v = strings.TrimLeft(v, " \t,")
		if v == "" {
			return t, true
		}
		tag, rest, ok := cutETag(v)
		if !ok {
			return etags{}, false
		}
		t.list = append(t.list, tag)
		if v = strings.TrimLeft(rest, " \t"); v != "" && v[0] != ',' {
			return etags{}, false
		}
	}
}

// cutETag cuts the entity tag that s starts with: an optional W/, then
// etagc characters between double quotes.
func cutETag(s string) (tag, rest string, ok bool) {
	start := 0
	if strings.HasPrefix(s, "W/") {
		start = 2
	}
	if len(s) <= start || s[start] != '"' {
		return "", "", false
	}
	for i := start + 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return s[:i+1], s[i+1:], true
		case c != 0x21 && (c < 0x23 || c == 0x7f):
			return "", "", false
		}
	}
	return "", "", false
}
