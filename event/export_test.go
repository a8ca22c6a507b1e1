package event

// ValidateUnbounded checks payload as Validate does, without its time
// limit: for tests of what a schema accepts, which a loaded machine must
// not turn into a timeout.
func (s *Schema) ValidateUnbounded(payload []byte) error {
	return s.validateUnbounded("payload", payload)
}
