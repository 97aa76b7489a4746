package rest

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// longestWait stands for a wait too large to represent: a server that asks
// for 1e300 seconds asked for a very long wait, not for none, so the caller
// gets the typed error at once with this RetryAfter.
const longestWait = time.Duration(math.MaxInt64)

// parseWait reads a count of unit (seconds, milliseconds) from the wire. A
// number too large for a time.Duration, or one strconv cannot even hold
// (1e400), is [longestWait]; zero, negative, NaN and malformed values are 0
// (no wait given).
func parseWait(s string, unit time.Duration) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		return 0
	case math.IsNaN(f) || f <= 0:
		return 0
	case math.IsInf(f, 1) || f >= float64(math.MaxInt64/int64(unit)):
		return longestWait
	}
	return time.Duration(f * float64(unit))
}

// hasControl reports whether s contains a control character (below 0x20, or
// DEL), which no HTTP header value the SDK sends may carry.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// headerReset reads X-RateLimit-Reset as [headerInt] does, except that a
// value too large to represent (1e300, or more digits than a float holds) is
// the largest reset headerInt accepts, a date thousands of years away: a very
// long wait rather than none.
func headerReset(h http.Header) (int, bool) {
	if n, ok := headerInt(h, hdrReset); ok {
		return n, true
	}
	vs := h[hdrReset]
	if len(vs) == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(vs[0]), 64)
	if (err == nil || errors.Is(err, strconv.ErrRange)) && f > 1e15 {
		return 1e15, true
	}
	return 0, false
}
