package evidence

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stampede-load/stampede/internal/secret"
)

// pathProbe times the probe query over a connection of its own through
// the path from the service to its database (the db proxy): the same
// credentials as the reserved connection, another host:port. Its figure
// beside the direct one is what the path adds.
type pathProbe struct {
	cfg  *pgx.ConnConfig // nil when the DSN or the address did not parse
	bad  string          // why cfg is nil
	conn *pgx.Conn
}

// newPathProbe builds the connection's config from dsn with its
// host:port replaced by addr. The DSN is never printed: errors go
// through secret.
func newPathProbe(dsn, addr string) *pathProbe {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return &pathProbe{bad: fmt.Sprintf("parse the DSN: %v", secret.Err(err))}
	}
	host, portText, err := net.SplitHostPort(addr)
	port, perr := strconv.ParseUint(portText, 10, 16)
	if err != nil || perr != nil {
		return &pathProbe{bad: fmt.Sprintf("db path address %q is not host:port", addr)}
	}
	// The TLS server name (if any) stays the database's own: the proxy
	// forwards bytes and the certificate is still the server's.
	cfg.Host, cfg.Port = host, uint16(port)
	for _, fb := range cfg.Fallbacks {
		fb.Host, fb.Port = host, uint16(port)
	}
	cfg.RuntimeParams["application_name"] = "stampede-path-probe"
	return &pathProbe{cfg: cfg}
}

// connect opens the probe's connection, dropping any previous one.
func (p *pathProbe) connect(ctx context.Context) error {
	p.drop()
	if p.cfg == nil {
		return fmt.Errorf("%s", p.bad)
	}
	conn, err := pgx.ConnectConfig(ctx, p.cfg.Copy())
	if err != nil {
		return fmt.Errorf("connect through the db path: %w", secret.Err(err))
	}
	p.conn = conn
	return nil
}

// probe times SELECT 1 through the path. A failed query or a missing
// connection gets one reconnect in this sample, not more: a path that is
// down costs one connect attempt a second.
func (p *pathProbe) probe(ctx context.Context) (*float64, string) {
	reconnected := false
	if p.conn == nil || p.conn.IsClosed() {
		if err := p.connect(ctx); err != nil {
			return nil, err.Error()
		}
		reconnected = true
	}
	for {
		begin := time.Now()
		_, err := p.conn.Exec(ctx, "SELECT 1")
		if err == nil {
			return millis(time.Since(begin)), ""
		}
		if reconnected || ctx.Err() != nil {
			p.drop()
			return nil, secret.Err(err).Error()
		}
		if err := p.connect(ctx); err != nil {
			return nil, err.Error()
		}
		reconnected = true
	}
}

func (p *pathProbe) drop() {
	if p.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	p.conn.Close(ctx)
	p.conn = nil
}

func (p *pathProbe) close() { p.drop() }
