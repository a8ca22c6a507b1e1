package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// payloadCodec is the JSON codec of Connect and REST requests and answers:
// protojson, except for event payloads. A payload object in a request is
// taken as the raw JSON text it is and set as the message's payload_json,
// never passing through google.protobuf.Struct, which holds every number
// as a double: 9007199254740993 would arrive as 9007199254740992. In an
// answer, payload_json is written back as the payload object, verbatim.
// Everything else is protojson's, as connect-go's and vanguard's own JSON
// codecs do it.
type payloadCodec struct {
	name      string
	marshal   protojson.MarshalOptions
	unmarshal protojson.UnmarshalOptions
}

// The names connect-go and vanguard give JSON.
const (
	codecJSON     = "json"
	codecJSONUTF8 = "json; charset=utf-8"
)

// newPayloadCodec returns the JSON codec named name, for connect-go
// (answers leave unset fields out) or vanguard (emitUnpopulated: REST
// answers show every field).
func newPayloadCodec(name string, emitUnpopulated bool) *payloadCodec {
	return &payloadCodec{
		name:      name,
		marshal:   protojson.MarshalOptions{EmitUnpopulated: emitUnpopulated},
		unmarshal: protojson.UnmarshalOptions{DiscardUnknown: true},
	}
}

// Name is the codec's name in connect-go and vanguard.
func (c *payloadCodec) Name() string { return c.name }

// IsBinary reports that JSON is text.
func (c *payloadCodec) IsBinary() bool { return false }

// MarshalAppend appends msg as JSON to base, payloads verbatim.
func (c *payloadCodec) MarshalAppend(base []byte, msg proto.Message) ([]byte, error) {
	out, err := c.marshal.MarshalAppend(base, msg)
	if err != nil || !carriesPayload(msg.ProtoReflect().Descriptor()) {
		return out, err
	}
	spliced, err := splicePayloads(out[len(base):], msg.ProtoReflect().Descriptor())
	return append(out[:len(base)], spliced...), err
}

// unmarshalMessage reads msg from JSON, payloads as their text. The
// payloads are taken out of the JSON before protojson reads the rest, and
// set as payload_json after: escaping a payload into a JSON string for
// protojson to unescape again cost as much as the rest of the request.
func (c *payloadCodec) unmarshalMessage(data []byte, msg proto.Message) error {
	md := msg.ProtoReflect().Descriptor()
	data = unwrapResource(data, md)
	var lifted []liftedPayload
	if carriesPayload(md) {
		var err error
		if data, err = liftPayloads(data, md, nil, &lifted); err != nil {
			return err
		}
	}
	if err := c.unmarshal.Unmarshal(data, msg); err != nil {
		return err
	}
	for _, l := range lifted {
		l.set(msg.ProtoReflect())
	}
	return nil
}

// connectCodec is payloadCodec as connect-go's codec.
type connectCodec struct{ *payloadCodec }

func (c connectCodec) Marshal(msg any) ([]byte, error) {
	m, ok := msg.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%T is not a proto.Message", msg)
	}
	return c.MarshalAppend(nil, m)
}

func (c connectCodec) Unmarshal(data []byte, msg any) error {
	m, ok := msg.(proto.Message)
	if !ok {
		return fmt.Errorf("%T is not a proto.Message", msg)
	}
	return c.unmarshalMessage(data, m)
}

// vanguardCodec is payloadCodec as vanguard's codec, for REST.
type vanguardCodec struct{ *payloadCodec }

func (c vanguardCodec) Unmarshal(data []byte, msg proto.Message) error {
	return c.unmarshalMessage(data, msg)
}

// payloadFields names the fields of a message carrying an event payload:
// the Struct as requests spell it and the JSON text that replaces it.
const (
	payloadField     = "payload"
	payloadJSONField = "payload_json"
)

// payloadPair returns md's payload Struct and payload_json fields, if it
// has both.
func payloadPair(md protoreflect.MessageDescriptor) (structField, textField protoreflect.FieldDescriptor) {
	structField, textField = md.Fields().ByName(payloadField), md.Fields().ByName(payloadJSONField)
	if structField == nil || textField == nil || structField.Message() == nil ||
		structField.Message().FullName() != "google.protobuf.Struct" || textField.Kind() != protoreflect.StringKind {
		return nil, nil
	}
	return structField, textField
}

// carriers caches carriesPayload per message type.
var carriers sync.Map // protoreflect.FullName -> bool

// carriesPayload reports whether a message of type md, or one nested in
// it, has a payload pair.
func carriesPayload(md protoreflect.MessageDescriptor) bool {
	if v, ok := carriers.Load(md.FullName()); ok {
		return v.(bool)
	}
	carriers.Store(md.FullName(), false) // recursive types end here
	found := false
	if s, _ := payloadPair(md); s != nil {
		found = true
	}
	for i := 0; i < md.Fields().Len() && !found; i++ {
		if sub := md.Fields().Get(i).Message(); sub != nil && !sub.IsMapEntry() {
			found = carriesPayload(sub)
		}
	}
	carriers.Store(md.FullName(), found)
	return found
}

// fieldByJSONKey finds the field a JSON key names: protojson accepts the
// JSON name and the proto name.
func fieldByJSONKey(md protoreflect.MessageDescriptor, key string) protoreflect.FieldDescriptor {
	if fd := md.Fields().ByJSONName(key); fd != nil {
		return fd
	}
	return md.Fields().ByName(protoreflect.Name(key))
}

// liftedPayload is a payload object taken out of a request's JSON: its
// text, byte for byte, and the path to the message whose payload_json it
// is.
type liftedPayload struct {
	path []payloadStep
	text string
}

// payloadStep is one field on the way to a payload's message, with the
// item's index when the field is a list.
type payloadStep struct {
	field protoreflect.FieldDescriptor
	index int
}

// set sets the payload as payload_json of its message in m.
func (l liftedPayload) set(m protoreflect.Message) {
	for _, step := range l.path {
		if step.field.IsList() {
			m = m.Get(step.field).List().Get(step.index).Message()
		} else {
			m = m.Mutable(step.field).Message()
		}
	}
	_, textField := payloadPair(m.Descriptor())
	m.Set(textField, protoreflect.ValueOfString(l.text))
}

// liftPayloads takes each payload object out of a request's JSON, of a
// message of type md at path or of those nested in it, adding it to
// lifted, and returns the JSON without them. JSON it cannot take apart is
// left to protojson, which says what is wrong with it.
func liftPayloads(data []byte, md protoreflect.MessageDescriptor, path []payloadStep, lifted *[]liftedPayload) ([]byte, error) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		return data, nil
	}
	structField, textField := payloadPair(md)
	changed := false
	for key, value := range obj {
		fd := fieldByJSONKey(md, key)
		switch {
		case fd == nil:
		case fd == structField:
			if !isObject(value) {
				continue // null, or not an object: protojson's to judge
			}
			if !utf8.Valid(value) {
				// Taken as text it would have U+FFFD in place of the bad
				// bytes; protojson refuses it, and so does this.
				return nil, errors.New("payload: not valid UTF-8")
			}
			for other := range obj {
				if fieldByJSONKey(md, other) == textField {
					return nil, errors.New("payload and payload_json are both set: set one")
				}
			}
			*lifted = append(*lifted, liftedPayload{path: slices.Clone(path), text: string(value)})
			delete(obj, key)
			changed = true
		case fd.Message() != nil && !fd.IsMap() && carriesPayload(fd.Message()):
			rest, err := liftNested(value, fd, path, lifted)
			if err != nil {
				return nil, err
			}
			obj[key] = rest
			changed = true
		}
	}
	if !changed {
		return data, nil
	}
	return writeObject(obj), nil
}

// liftNested lifts the payloads of a message field's value: one object, or
// a list of them.
func liftNested(value json.RawMessage, fd protoreflect.FieldDescriptor, path []payloadStep, lifted *[]liftedPayload) (json.RawMessage, error) {
	if !fd.IsList() {
		return liftPayloads(value, fd.Message(), append(path, payloadStep{field: fd}), lifted)
	}
	var items []json.RawMessage
	if json.Unmarshal(value, &items) != nil {
		return value, nil
	}
	for i, item := range items {
		rest, err := liftPayloads(item, fd.Message(), append(path, payloadStep{field: fd, index: i}), lifted)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", fd.JSONName(), i, err)
		}
		items[i] = rest
	}
	return writeArray(items), nil
}

// wrappers are the request objects that may come wrapped in one key naming
// the resource, {"webhook": {...}} or {"event": {...}}, with, inside, the
// names some fields take in the resource rather than in the request.
var wrappers = map[protoreflect.FullName]struct {
	key     string
	renamed map[string]string // resource's name -> request's
}{
	"webhook.RegisterWebhookRequest": {key: "webhook"},
	"webhook.PushEventRequest":       {key: "event", renamed: map[string]string{"name": "event"}},
}

// unwrapResource takes a request of the resource-wrapped form, such as
// {"event": {"namespace": "...", "name": "user.created", "payload": {...}}},
// as the request's own fields. A request of the usual form, where "event"
// is the event type's name, is left alone.
func unwrapResource(data []byte, md protoreflect.MessageDescriptor) []byte {
	w, ok := wrappers[md.FullName()]
	if !ok || !opensWithObject(data, w.key) {
		return data
	}
	var obj, inner map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil || len(obj) != 1 || !isObject(obj[w.key]) || json.Unmarshal(obj[w.key], &inner) != nil {
		return data
	}
	for k, v := range inner {
		if renamed, ok := w.renamed[k]; ok {
			delete(inner, k)
			inner[renamed] = v
		}
	}
	return writeObject(inner)
}

// opensWithObject reports whether data is a JSON object whose first member
// is key with an object for value, reading no further: the usual request,
// whose first member is another or not an object, is not read through
// (its payload would be) only to learn that it is not wrapped.
func opensWithObject(data []byte, key string) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	if t, err := dec.Token(); err != nil || t != key {
		return false
	}
	rest := bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	return len(rest) > 0 && rest[0] == '{'
}

// splicePayloads rewrites an answer's JSON so that each payload_json becomes
// the payload object, verbatim, in place of the Struct protojson wrote.
func splicePayloads(data []byte, md protoreflect.MessageDescriptor) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, err
	}
	structField, textField := payloadPair(md)
	for key, value := range obj {
		fd := fieldByJSONKey(md, key)
		switch {
		case fd == nil:
		case fd == textField:
			var text string
			if err := json.Unmarshal(value, &text); err != nil {
				return nil, err
			}
			delete(obj, key)
			if text != "" && json.Valid([]byte(text)) {
				obj[structField.JSONName()] = json.RawMessage(text)
			}
		case fd.Message() != nil && !fd.IsMap() && carriesPayload(fd.Message()):
			spliced, err := spliceNested(value, fd)
			if err != nil {
				return nil, err
			}
			obj[key] = spliced
		}
	}
	return writeObject(obj), nil
}

func spliceNested(value json.RawMessage, fd protoreflect.FieldDescriptor) (json.RawMessage, error) {
	if !fd.IsList() {
		if bytes.Equal(value, []byte("null")) {
			return value, nil
		}
		return splicePayloads(value, fd.Message())
	}
	var items []json.RawMessage
	if err := json.Unmarshal(value, &items); err != nil {
		return nil, err
	}
	for i, item := range items {
		spliced, err := splicePayloads(item, fd.Message())
		if err != nil {
			return nil, err
		}
		items[i] = spliced
	}
	return writeArray(items), nil
}

// writeObject writes obj with its values as they are: encoding/json would
// compact them and escape <, > and &, and a payload goes out verbatim.
func writeObject(obj map[string]json.RawMessage) []byte {
	b := []byte{'{'}
	for i, key := range slices.Sorted(maps.Keys(obj)) {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(key) // a string always marshals
		b = append(append(append(b, k...), ':'), obj[key]...)
	}
	return append(b, '}')
}

// writeArray writes items as they are, as writeObject does.
func writeArray(items []json.RawMessage) []byte {
	b := []byte{'['}
	for i, item := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, item...)
	}
	return append(b, ']')
}

// isObject reports whether a JSON value is an object.
func isObject(value json.RawMessage) bool {
	value = bytes.TrimLeft(value, " \t\r\n")
	return len(value) > 0 && value[0] == '{'
}
