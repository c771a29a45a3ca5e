// Package evidence samples what happens beside the traffic during a run:
// the database's own view of its connections and of the service's role
// (over a connection reserved before the first request, and a second one
// through the database path when there is one), the service's pool
// statistics, TCP connect and health probes, cheap HTTP probes (an unused
// path, the health path) through the client path and straight to the
// service, and CPU use of the host, the generator, a local target and a
// local database. It runs as an engine Hook and writes typed rundir events
// to the run's timeline.
package evidence
