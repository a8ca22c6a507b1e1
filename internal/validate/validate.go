// Package validate holds the input checks Sparrow's domain packages share.
// Each returns an *errs.InvalidArgumentError naming the field, or nil.
package validate

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/sparrowhq/sparrow/internal/errs"
	"github.com/sparrowhq/sparrow/internal/ids"
)

// Limits on shared inputs.
const (
	DefaultNamespace  = "default"
	MaxNamespaceLen   = 64
	MaxLabels         = 32
	MaxLabelKeyLen    = 64
	MaxLabelValueLen  = 256
	DefaultPageLimit  = 20
	MaxPageLimit      = 100
	MaxDescriptionLen = 1024
)

var (
	namespacePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	labelKeyPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_./-]*$`)
)

// Namespace returns ns, or the default namespace when ns is empty.
func Namespace(ns string) (string, error) {
	if ns == "" {
		return DefaultNamespace, nil
	}
	if len(ns) > MaxNamespaceLen || !namespacePattern.MatchString(ns) {
		return "", errs.InvalidArgument("namespace",
			"must be 1 to %d letters, digits, '_', '-' or '.', starting with a letter or digit", MaxNamespaceLen)
	}
	return ns, nil
}

// Text checks free text: valid UTF-8, no NUL bytes (PostgreSQL text cannot
// hold them), at most maxLen bytes.
func Text(field, s string, maxLen int) error {
	switch {
	case len(s) > maxLen:
		return errs.InvalidArgument(field, "longer than %d bytes", maxLen)
	case !utf8.ValidString(s):
		return errs.InvalidArgument(field, "not valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		return errs.InvalidArgument(field, "contains a NUL byte")
	}
	return nil
}

// Labels checks a label set: at most MaxLabels, keys like "region" or
// "app.kubernetes.io/name", values of bounded UTF-8 text.
func Labels(field string, labels map[string]string) error {
	if len(labels) > MaxLabels {
		return errs.InvalidArgument(field, "more than %d labels", MaxLabels)
	}
	for k, v := range labels {
		if len(k) > MaxLabelKeyLen || !labelKeyPattern.MatchString(k) {
			return errs.InvalidArgument(fmt.Sprintf("%s[%s]", field, k),
				"key must be 1 to %d letters, digits, '_', '.', '/' or '-', starting with a letter or digit", MaxLabelKeyLen)
		}
		if err := Text(fmt.Sprintf("%s[%s]", field, k), v, MaxLabelValueLen); err != nil {
			return err
		}
	}
	return nil
}

// PageLimit returns limit, the default when limit is 0.
func PageLimit(limit int) (int, error) {
	switch {
	case limit == 0:
		return DefaultPageLimit, nil
	case limit < 0 || limit > MaxPageLimit:
		return 0, errs.InvalidArgument("limit", "must be between 1 and %d", MaxPageLimit)
	}
	return limit, nil
}

// ID checks that id is an identifier with prefix. Malformed ids are refused
// as input errors rather than looked up and reported missing.
func ID(field, prefix, id string) error {
	if id == "" {
		return errs.InvalidArgument(field, "required")
	}
	if !ids.Valid(prefix, id) {
		return errs.InvalidArgument(field, "not a %s_ identifier", prefix)
	}
	return nil
}

// NewCursor returns the opaque page cursor for a listing positioned after key.
func NewCursor(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(key))
}

// Cursor decodes a cursor made by NewCursor; "" decodes to "".
func Cursor(cursor string) (string, error) {
	key, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || !utf8.Valid(key) || len(key) > 256 {
		return "", errs.InvalidArgument("cursor", "not a cursor returned by a previous page")
	}
	return string(key), nil
}
