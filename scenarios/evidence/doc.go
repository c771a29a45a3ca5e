// Package evidence samples what happens beside the traffic during a run:
// the database's own view of its connections (over a connection reserved
// before the first request), the service's pool statistics, and TCP
// connect and health probes. It runs as an engine Hook and writes typed
// rundir events to the run's timeline.
package evidence
