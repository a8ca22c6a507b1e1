package transport_test

import (
	"hash/fnv"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// fuzzScale keeps most seeds small, so that fuzzing mutates many inputs a
// second; each field limit is still far exceeded. FuzzRPC adds a full-scale
// seed or two per procedure besides.
var fuzzScale = scale{oversized: strings.Repeat("a", 8<<10), many: 2_000}

// documentedCodes are the answers the API documents for a request, valid
// or not, on a server without API keys (so neither Unauthenticated nor
// PermissionDenied). Internal would be a bug, or a database failure the
// fuzzer can't cause.
var documentedCodes = map[connect.Code]bool{
	0:                              true,
	connect.CodeInvalidArgument:    true,
	connect.CodeNotFound:           true,
	connect.CodeAlreadyExists:      true,
	connect.CodeFailedPrecondition: true,
	connect.CodeResourceExhausted:  true,
}

// FuzzRPC sends fuzzed request bytes, proto binary or JSON, to every
// procedure of webhook.proto (found in its descriptors, so a new RPC is
// fuzzed too) on a real server and database. Whatever the bytes, the
// answer is a documented code and never a 5xx; nothing is logged (no
// internal error, no panic); a refused call writes nothing; an accepted
// one answers a response that decodes in both formats. The seeds, valid
// requests and every hostile value of TestHostileInput (smaller, but over
// every limit) for each procedure, run in every plain go test; the fuzzer
// mutates them:
//
//	go test -run XXX -fuzz FuzzRPC -fuzztime 60s ./transport/
func FuzzRPC(f *testing.F) {
	s := newTestServer(f)
	fx := newFixtures(f, s, "fuzz")[0]
	valid := validRequests(fx, fx.namespace)
	query := s.snapshotQuery(f)
	byName := map[string]protoreflect.MethodDescriptor{}
	var names []string
	for _, md := range procedures() {
		name := string(md.Name())
		if _, dup := byName[name]; dup {
			f.Fatalf("two procedures are named %s: the fuzz input can't tell them apart", name)
		}
		byName[name] = md
		names = append(names, name)
		build, ok := valid[name]
		if !ok {
			f.Fatalf("%s has no valid request in validRequests", name)
		}
		f.Add(name, false, wire(f, build()))
		if b, err := protojson.Marshal(build()); err == nil {
			f.Add(name, true, b)
		}
		for _, c := range hostileCases(f, md.Input(), fuzzScale) {
			msg := build()
			c.apply(msg.ProtoReflect())
			f.Add(name, false, wire(f, msg))
			// JSON can't carry some values (NaN); proto binary has them.
			if b, ok := encode(msg, true); ok {
				f.Add(name, true, b)
			}
		}
		// The first oversized and the first long-list case at full scale
		// (under the race detector, TestHostileInput's sizes suffice).
		if !raceEnabled {
			seen := map[bool]bool{}
			for _, c := range hostileCases(f, md.Input(), fullScale) {
				big := strings.HasPrefix(c.class, "many")
				if seen[big] || !big && !strings.HasPrefix(c.class, "oversized") {
					continue
				}
				seen[big] = true
				msg := build()
				c.apply(msg.ProtoReflect())
				f.Add(name, false, wire(f, msg))
			}
		}
	}

	// pick maps the fuzzed procedure name to a procedure: a mutated name
	// still reaches one, so mutations of the name aren't wasted.
	pick := func(name string) protoreflect.MethodDescriptor {
		if md, ok := byName[name]; ok {
			return md
		}
		h := fnv.New32a()
		h.Write([]byte(name))
		return byName[names[h.Sum32()%uint32(len(names))]]
	}
	// clean is the schema's state after the last refused call: the engine's
	// workers are stopped, so it holds until a call succeeds.
	var clean snapshot
	f.Fuzz(func(t *testing.T, procedure string, useJSON bool, body []byte) {
		md := pick(procedure)
		logs := len(s.logs.String())
		before := clean
		if before == nil {
			before = s.snapshot(t, query)
		}
		clean = nil
		r := s.callRaw(t, md, contentTypes[useJSON], body)
		if r.status >= http.StatusInternalServerError || !documentedCodes[r.code] {
			t.Fatalf("%s: %v", md.Name(), r)
		}
		if got := s.logs.String()[logs:]; got != "" {
			t.Fatalf("%s: %v; the server logged %.1000s", md.Name(), r, got)
		}
		if r.code == 0 {
			// What one format accepted must read back in the other too (the
			// decoders differ: in how deep they let a Struct nest, for one).
			out := newMessage(t, md.Output())
			if err := decode(r.body, out, useJSON); err != nil {
				t.Fatalf("%s answered OK with an undecodable %s: %v", md.Name(), md.Output().FullName(), err)
			}
			other, ok := encode(out, !useJSON)
			if !ok {
				t.Fatalf("%s answered OK with a %s the other format can't carry", md.Name(), md.Output().FullName())
			}
			if err := decode(other, newMessage(t, md.Output()), !useJSON); err != nil {
				t.Fatalf("%s answered OK with a %s the other format can't read: %v", md.Name(), md.Output().FullName(), err)
			}
			return
		}
		after := s.snapshot(t, query)
		if tables := changed(before, after); len(tables) > 0 {
			t.Fatalf("%s: refused (%v), but wrote to %v", md.Name(), r, tables)
		}
		clean = after
	})
}
