package transport_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"connectrpc.com/connect"
)

// TestRESTHostileInput puts hostile values where the REST routes take
// them from the URL, which the protobuf decoders never see: path
// parameters, the query, and a body where a route takes none. Each must
// get InvalidArgument as a google.rpc.Status (HTTP 400), never a 5xx, log
// nothing and write nothing.
func TestRESTHostileInput(t *testing.T) {
	t.Parallel()

	s := newTestServer(t)
	newFixtures(t, s, "rest")
	query := s.snapshotQuery(t)
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	values := map[string]string{
		"nul":          "%00",
		"invalid-utf8": "%FF%FE",
		"oversized":    strings.Repeat("a", 64<<10),
	}
	// Query text no request field can take.
	queries := map[string]string{
		"negative-limit": "limit=-1",
		"overflow-limit": "limit=99999999999",
		"fractional":     "limit=1.5",
		"not-a-number":   "limit=x",
		"unknown-param":  "namespacee=rest",
		"bad-escape":     "namespace=%zz",
		"utf8-name":      "%FF=1",
	}
	type hostile struct{ name, url, body string }
	for procedure, route := range annotatedRoutes(t) {
		method, path, _ := strings.Cut(route, " ")
		bodiless := method == http.MethodGet || method == http.MethodDelete
		var cases []hostile
		for class, v := range values {
			if param.MatchString(path) {
				cases = append(cases, hostile{"path/" + class, param.ReplaceAllLiteralString(path, v) + "?namespace=rest", ""})
			}
			if bodiless {
				cases = append(cases, hostile{"namespace/" + class, param.ReplaceAllLiteralString(path, "x") + "?namespace=" + v, ""})
			}
		}
		if bodiless {
			cases = append(cases, hostile{"body", param.ReplaceAllLiteralString(path, "x"), `{"namespace": "rest"}`})
			if strings.HasPrefix(procedure, "List") {
				for class, q := range queries {
					cases = append(cases, hostile{class, path + "?" + q, ""})
				}
			}
		}
		for _, c := range cases {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			} else if !bodiless {
				body = strings.NewReader(`{}`)
			}
			req, err := http.NewRequest(method, s.url+c.url, body)
			if err != nil {
				t.Fatal(err)
			}
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			logs := len(s.logs.String())
			before := s.snapshot(t, query)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", procedure, c.name, err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var status struct {
				Code int32 `json:"code"` // google.rpc.Status has the number
			}
			if err := json.Unmarshal(raw, &status); err != nil || resp.StatusCode != http.StatusBadRequest || connect.Code(status.Code) != connect.CodeInvalidArgument {
				t.Errorf("%s %s: HTTP %d %.300s, want 400 and invalid_argument", procedure, c.name, resp.StatusCode, raw)
			}
			if tables := changed(before, s.snapshot(t, query)); len(tables) > 0 {
				t.Errorf("%s %s: refused, but wrote to %v", procedure, c.name, tables)
			}
			if got := s.logs.String()[logs:]; got != "" {
				t.Errorf("%s %s: the server logged %.500s", procedure, c.name, got)
			}
		}
	}
}
