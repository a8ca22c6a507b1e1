package sparrow

import "github.com/sparrowhq/sparrow/internal/validate"

// validateRef checks a namespace (defaulting it) and the id of a resource
// addressed in it.
func validateRef(namespace, field, prefix, id string) (string, error) {
	namespace, err := validate.Namespace(namespace)
	if err != nil {
		return "", err
	}
	return namespace, validate.ID(field, prefix, id)
}

// validateListing checks the namespace, page size and cursor of a listing
// keyed by id.
func validateListing(namespace string, limit int, cursor string) (string, int, string, error) {
	namespace, err := validate.Namespace(namespace)
	if err != nil {
		return "", 0, "", err
	}
	if limit, err = validate.PageLimit(limit); err != nil {
		return "", 0, "", err
	}
	before, err := validate.Cursor(cursor)
	return namespace, limit, before, err
}

// firstError returns the first non-nil error: validation reports one
// problem at a time, in field order.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
