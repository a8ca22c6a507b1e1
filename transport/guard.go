package transport

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// guard refuses, from a request's headers alone and before its body is
// read, what must not cost the server any work: a request addressed to a
// host name it does not serve (DNS rebinding), one sent cross-site by a
// browser, a REST write whose body a browser could send without asking
// (no JSON Content-Type), and one without a valid API key. An attacker's
// 8 MiB body is then never decoded.
type guard struct {
	auth    *authenticator
	hosts   []string // nil: any
	origins []string // "*": any
	errors  *connect.ErrorWriter
}

func (g *guard) wrap(next http.Handler, rest bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g.check(r, rest); err != nil {
			g.refuse(w, r, rest, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (g *guard) check(r *http.Request, rest bool) error {
	if !g.hostAllowed(r.Host) {
		return connect.NewError(connect.CodePermissionDenied,
			fmt.Errorf("requests addressed to %q are not served here: allow the host name (transport.WithAllowedHosts, SPARROW_ALLOWED_HOSTS)", r.Host))
	}
	if origin := r.Header.Get("Origin"); origin != "" && !g.originAllowed(origin, r.Host) {
		return connect.NewError(connect.CodePermissionDenied,
			fmt.Errorf("cross-site requests from %q are refused: allow the origin (transport.WithAllowedOrigins, SPARROW_ALLOWED_ORIGINS)", origin))
	}
	if rest && writes(r.Method) && r.ContentLength != 0 && !isJSON(r.Header.Get("Content-Type")) {
		return errUnsupportedMediaType
	}
	return g.auth.authenticate(r.Header)
}

// errUnsupportedMediaType refuses a REST body that is not JSON: browsers
// send text/plain and form bodies cross-site without asking first.
var errUnsupportedMediaType = connect.NewError(connect.CodeInvalidArgument,
	errors.New("the body must be JSON: send Content-Type: application/json"))

// writes reports whether a method changes state.
func writes(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

func isJSON(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	return err == nil && mediaType == "application/json"
}

// hostAllowed reports whether host, a request's Host header, is one g
// serves.
func (g *guard) hostAllowed(host string) bool {
	if g.hosts == nil {
		return true
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.ToLower(strings.Trim(name, "[]"))
	for _, allowed := range g.hosts {
		if allowed == "*" || allowed == name || allowed == LoopbackHosts && isLoopback(name) {
			return true
		}
	}
	return false
}

// LoopbackHosts, among WithAllowedHosts' names, stands for every loopback
// name: localhost and its subdomains, 127.0.0.0/8 and ::1.
const LoopbackHosts = "loopback"

func isLoopback(name string) bool {
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true
	}
	addr, err := netip.ParseAddr(name)
	return err == nil && addr.IsLoopback()
}

// originAllowed reports whether a browser may call from origin: its own
// page (the origin's host is the request's), or an origin allowed.
func (g *guard) originAllowed(origin, host string) bool {
	if slices.Contains(g.origins, "*") || slices.Contains(g.origins, strings.TrimRight(origin, "/")) {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}

// refuse answers err in the request's protocol: REST's google.rpc.Status,
// or Connect's, gRPC's or gRPC-Web's error.
func (g *guard) refuse(w http.ResponseWriter, r *http.Request, rest bool, err error) {
	if r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close") // the body is not read: don't wait for it
	}
	if rest || !g.errors.IsSupported(r) {
		code := connect.CodeOf(err)
		b, _ := protojson.Marshal(&status.Status{Code: int32(code), Message: connectMessage(err)})
		w.Header().Set("Content-Type", "application/json")
		httpStatus := httpStatusOf(code)
		if errors.Is(err, errUnsupportedMediaType) {
			httpStatus = http.StatusUnsupportedMediaType
		}
		w.WriteHeader(httpStatus)
		_, _ = w.Write(b)
		return
	}
	_ = g.errors.Write(w, r, err)
}

func connectMessage(err error) string {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Message()
	}
	return err.Error()
}

// httpStatusOf is the HTTP status of the codes the guard answers, as
// Connect and vanguard map them.
func httpStatusOf(code connect.Code) int {
	switch code {
	case connect.CodeUnauthenticated:
		return http.StatusUnauthorized
	case connect.CodePermissionDenied:
		return http.StatusForbidden
	case connect.CodeResourceExhausted:
		return http.StatusTooManyRequests
	default:
		return http.StatusBadRequest
	}
}

// cappedGzip is a gzip decompressor that stops max bytes in: connect-go and
// vanguard read a compressed request up to their limit, then decompress the
// rest to report its size, which a small gzip bomb makes gigabytes of work.
type cappedGzip struct {
	reader *gzip.Reader
	max    int64
	left   int64
}

var errDecompressedTooLarge = errors.New("the request is larger than the server's limit once decompressed")

func newCappedGzip(max int) func() connect.Decompressor {
	return func() connect.Decompressor { return &cappedGzip{max: int64(max) + 1} }
}

func (c *cappedGzip) Read(p []byte) (int, error) {
	if c.reader == nil {
		return 0, io.ErrUnexpectedEOF
	}
	if c.left <= 0 {
		return 0, errDecompressedTooLarge
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.reader.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *cappedGzip) Reset(r io.Reader) error {
	c.left = c.max
	if c.reader == nil {
		var err error
		c.reader, err = gzip.NewReader(r)
		return err
	}
	return c.reader.Reset(r)
}

func (c *cappedGzip) Close() error {
	if c.reader == nil {
		return nil
	}
	return c.reader.Close()
}

// compressMinBytes is the smallest answer compressed when the client
// accepts gzip: below it, gzip's headers and the compressor's work cost
// more than they save.
const compressMinBytes = 1024

func newGzipCompressor() connect.Compressor {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression)
	return w
}
