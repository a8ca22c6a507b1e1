package transport

import (
	"bytes"
	"net/http"
	"net/url"
	"unicode/utf8"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// restHandler serves the REST routes with vanguard's transcoder, mending
// how it takes three client mistakes. It skips a query parameter it can't
// unescape, so "?namespace=%zz" would quietly read the default namespace:
// refused here. It binds path and query text to string fields without the
// UTF-8 check the protobuf decoders make, so the message then fails to
// marshal, a server error (HTTP 500, Unknown): refused here. And it
// reports what it can't bind to the request message (an unknown query
// parameter, a body on a GET) as Unknown too. Sparrow's handlers never
// answer Unknown (errorTranslator gives every error a code, Internal at
// worst), so on these routes an Unknown is vanguard refusing the request:
// it is answered InvalidArgument.
func restHandler(transcoder http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !utf8.ValidString(r.URL.Path) || !validQuery(r.URL.RawQuery) {
			writeInvalidArgument(w, "the URL's path or query is not valid UTF-8, or not validly escaped")
			return
		}
		rw := &restErrorWriter{ResponseWriter: w}
		transcoder.ServeHTTP(rw, r)
		rw.finish()
	})
}

// validQuery reports whether a query unescapes, to names and values of
// valid UTF-8.
func validQuery(raw string) bool {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return false
	}
	for name, vs := range values {
		if !utf8.ValidString(name) {
			return false
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return false
			}
		}
	}
	return true
}

// writeInvalidArgument answers a REST request as vanguard answers errors:
// a google.rpc.Status in JSON.
func writeInvalidArgument(w http.ResponseWriter, message string) {
	b, _ := protojson.Marshal(&status.Status{Code: int32(connect.CodeInvalidArgument), Message: message})
	w.Header().Del("Content-Length")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(b)
}

// restErrorWriter holds back a 500 answer until finish, which passes it on
// unless it is an Unknown, which it answers as InvalidArgument.
type restErrorWriter struct {
	http.ResponseWriter
	held *bytes.Buffer // the body of a 500 answer
}

func (w *restErrorWriter) WriteHeader(code int) {
	if code == http.StatusInternalServerError && w.held == nil {
		w.held = &bytes.Buffer{}
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *restErrorWriter) Write(b []byte) (int, error) {
	if w.held != nil {
		return w.held.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// Flush passes on flushes, except of a held answer: vanguard needs an
// http.Flusher.
func (w *restErrorWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && w.held == nil {
		f.Flush()
	}
}

func (w *restErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *restErrorWriter) finish() {
	if w.held == nil {
		return
	}
	var st status.Status
	if protojson.Unmarshal(w.held.Bytes(), &st) == nil && connect.Code(st.GetCode()) == connect.CodeUnknown {
		writeInvalidArgument(w.ResponseWriter, st.GetMessage())
		return
	}
	w.ResponseWriter.WriteHeader(http.StatusInternalServerError)
	_, _ = w.ResponseWriter.Write(w.held.Bytes())
}
