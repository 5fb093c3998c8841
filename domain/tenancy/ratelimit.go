package tenancy

import (
	"strconv"
	"strings"
	"time"

	"github.com/leadr-oss/identity/domain"
)

// RateLimit is an API key's own limit, which a superadmin sets: Rate
// requests at once, then Rate per Period. The zero value is none of its
// own (the service's default applies); RateLimitOff lets everything
// through.
type RateLimit struct {
	rate int
	unit string // a key of ratePeriods
	off  bool
}

// RateLimitOff is a key's limit that limits nothing.
var RateLimitOff = RateLimit{off: true}

// maxRate bounds N in "N/s": far above what one replica serves, and far
// from overflowing a period's nanoseconds.
const maxRate = 1_000_000

var ratePeriods = map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}

// ParseRateLimit reads "N/s", "N/m" or "N/h" (N from 1 to 1,000,000) or
// "off".
func ParseRateLimit(s string) (RateLimit, error) {
	if s == "off" {
		return RateLimitOff, nil
	}
	n, unit, _ := strings.Cut(s, "/")
	rate, err := strconv.Atoi(n)
	_, known := ratePeriods[unit]
	if err != nil || rate < 1 || rate > maxRate || !known || n != strconv.Itoa(rate) {
		return RateLimit{}, domain.Rejected("rate_limit",
			`Must be "N/s", "N/m" or "N/h" with N from 1 to 1000000 (N at once, then N a second, minute or hour), "off", or null for the default`, s)
	}
	return RateLimit{rate: rate, unit: unit}, nil
}

// Rate is how many requests the limit lets through at once, and then per
// Period; zero for the default and for off.
func (l RateLimit) Rate() int { return l.rate }

func (l RateLimit) Period() time.Duration { return ratePeriods[l.unit] }

// IsDefault reports whether the key has no limit of its own.
func (l RateLimit) IsDefault() bool { return l == RateLimit{} }

// Off reports whether the key is not limited at all.
func (l RateLimit) Off() bool { return l.off }

// String is the form ParseRateLimit reads; "" for the default.
func (l RateLimit) String() string {
	switch {
	case l.off:
		return "off"
	case l.IsDefault():
		return ""
	}
	return strconv.Itoa(l.rate) + "/" + l.unit
}
