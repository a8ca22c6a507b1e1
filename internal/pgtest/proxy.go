package pgtest

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Proxy forwards TCP connections to the test database server, so a test can
// cut the database off (Stop: every connection drops, new ones are refused)
// and bring it back (Start), as a network fault or a database restart would.
type Proxy struct {
	target string

	mu       sync.Mutex
	addr     string
	listener net.Listener
	conns    map[net.Conn]struct{}
}

// NewProxy starts a proxy to the test database server, stopped when the test
// ends.
func NewProxy(tb testing.TB) *Proxy {
	tb.Helper()
	cfg := Pool(tb).Config().ConnConfig
	p := &Proxy{target: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), conns: map[net.Conn]struct{}{}}
	if err := p.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Stop)
	return p
}

// PoolConfig returns the test pool's configuration, connecting through the
// proxy.
func (p *Proxy) PoolConfig(tb testing.TB) *pgxpool.Config {
	tb.Helper()
	cfg := Pool(tb).Config().Copy()
	host, port, _ := net.SplitHostPort(p.addr)
	cfg.ConnConfig.Host = host
	cfg.ConnConfig.Port = uint16(portNumber(port))
	cfg.ConnConfig.Fallbacks = nil
	return cfg
}

// Start accepts connections again, on the same address.
func (p *Proxy) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	p.addr, p.listener = l.Addr().String(), l
	go p.accept(l)
	return nil
}

// Stop closes the listener and drops every connection.
func (p *Proxy) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.listener != nil {
		p.listener.Close()
		p.listener = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *Proxy) accept(l net.Listener) {
	for {
		client, err := l.Accept()
		if err != nil {
			return
		}
		server, err := (&net.Dialer{}).DialContext(context.Background(), "tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		if p.listener != l { // stopped meanwhile
			p.mu.Unlock()
			client.Close()
			server.Close()
			return
		}
		p.conns[client], p.conns[server] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(client, server)
		go p.pipe(server, client)
	}
}

func (p *Proxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

func portNumber(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
