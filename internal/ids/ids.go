// Package ids makes Sparrow's identifiers: a type prefix and a ULID in
// lowercase Crockford base32 ("wh_01jd3k..."). They sort by creation time,
// which is what keyset pagination and "newest first" indexes rely on.
package ids

import (
	"strings"

	"github.com/oklog/ulid/v2"
)

// Prefixes of Sparrow's identifiers.
const (
	Delivery     = "dlv"
	Event        = "evt"
	Recovery     = "rcv"
	Secret       = "sec"
	Subscription = "sub"
	Webhook      = "wh"
)

// New returns a new identifier with prefix, ordered after every identifier
// this process made before it.
func New(prefix string) string {
	return prefix + "_" + strings.ToLower(ulid.Make().String())
}

// Valid reports whether s is an identifier with prefix, so malformed ids can
// be refused as invalid input instead of being looked up.
func Valid(prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, prefix+"_")
	if !ok || len(rest) != ulid.EncodedSize {
		return false
	}
	_, err := ulid.ParseStrict(strings.ToUpper(rest))
	return err == nil
}
