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

// parseWait reads a count of unit (seconds, milliseconds) written as a JSON
// number ("60", "1.5", "2e3"), as the body's retryAfter and Retry-After-Ms
// are. A number too large for a time.Duration, or one strconv cannot even
// hold (1e400), is [longestWait]; zero, negative and malformed values are 0
// (no wait given), and so is every other form strconv.ParseFloat accepts
// ("Inf", "NaN", "0x1p4", "1_0", "+5"): a wait is a finite number.
func parseWait(s string, unit time.Duration) time.Duration {
	s = strings.TrimSpace(s)
	if !isJSONNumber(s) {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
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

// isJSONNumber reports whether s is a number in JSON's grammar (RFC 8259
// §6): an optional minus, an integer part without leading zeros, an
// optional fraction and an optional exponent.
func isJSONNumber(s string) bool {
	s, _ = strings.CutPrefix(s, "-")
	digits := func() int {
		n := 0
		for n < len(s) && '0' <= s[n] && s[n] <= '9' {
			n++
		}
		d := n
		s = s[n:]
		return d
	}
	if strings.HasPrefix(s, "0") {
		s = s[1:]
	} else if digits() == 0 {
		return false
	}
	if rest, ok := strings.CutPrefix(s, "."); ok {
		s = rest
		if digits() == 0 {
			return false
		}
	}
	if len(s) > 0 && (s[0] == 'e' || s[0] == 'E') {
		s = strings.TrimLeft(s[1:2], "+-") + s[2:]
		if digits() == 0 {
			return false
		}
	}
	return s == ""
}

// delaySeconds reads a Retry-After value in its delay-seconds form, which
// RFC 9110 §10.2.3 defines as digits only. A number of seconds too large
// for a time.Duration is [longestWait]; anything else (a date, "Inf", "1.5",
// "1e3") is not this form (ok is false).
func delaySeconds(s string) (d time.Duration, ok bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > int64(longestWait/time.Second) {
		return longestWait, true
	}
	return time.Duration(n) * time.Second, true
}

// ceilSecond rounds a positive d up to a whole second, saturating at
// [longestWait]: a wait derived from a reset time with a resolution of
// seconds must not end before it.
func ceilSecond(d time.Duration) time.Duration {
	switch r := d % time.Second; {
	case r == 0:
		return d
	case d > longestWait-time.Second:
		return longestWait
	default:
		return d - r + time.Second
	}
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
