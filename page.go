package sparrow

import "github.com/sparrowhq/sparrow/internal/validate"

// Page is one page of a listing, newest first unless the listing says
// otherwise.
type Page[T any] struct {
	Items []T
	// NextCursor fetches the next page when passed as a listing's Cursor;
	// empty on the last page.
	NextCursor string
}

func newPage[T any](items []T, more bool, key func(*T) string) *Page[T] {
	p := &Page[T]{Items: items}
	if p.Items == nil {
		p.Items = []T{}
	}
	if more && len(items) > 0 {
		p.NextCursor = validate.NewCursor(key(&items[len(items)-1]))
	}
	return p
}
