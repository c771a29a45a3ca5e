// Package rundir is the contract between the engine, which records a run,
// and the report, which reads it back: the run directory's file names, the
// Stampede-* headers on every recorded result, outcome, intent and error
// class names, the timeline's typed events, the manifest, the SLO defaults,
// the stage summaries and the plan's math (stages to hits over time).
//
// Both sides import it and nothing else of each other, so they cannot
// disagree about what a record means. It imports only the standard library.
package rundir

// Files of a run directory.
const (
	ResultsFile  = "results.bin"    // vegeta's gob encoding, one record per hit
	TimelineFile = "timeline.jsonl" // stages, generator events, faults, samples, one JSON object a line
	ManifestFile = "manifest.json"
	ScenarioFile = "scenario.yaml" // the scenario as run, byte for byte

	// What the report writes beside them.
	JSONFile       = "report.json"
	TextFile       = "report.txt"
	JUnitFile      = "junit.xml"
	PostmortemFile = "postmortem.md"
	HTMLFile       = "report.html"
)

// Headers stampede adds to each recorded result, beside the response's own
// (vegeta keeps them in Result.Headers, so `vegeta report` still reads the
// file).
const (
	HeaderStage      = "Stampede-Stage"       // index of the planned stage
	HeaderIntent     = "Stampede-Intent"      // an Intent
	HeaderOutcome    = "Stampede-Outcome"     // an Outcome
	HeaderSendLag    = "Stampede-Send-Lag"    // ns the send was behind its planned time
	HeaderConn       = "Stampede-Conn"        // "reused" or "new;connect=NS"
	HeaderErrorClass = "Stampede-Error-Class" // a transport error's class (Err*)
	HeaderTiming     = "Server-Timing"        // the service's own, when it sends one
	// HeaderShard is the index of the shard that sent the hit, added by
	// stampede merge to every result of a merged run.
	HeaderShard = "Stampede-Shard"
)

// Intent is what a login attempt meant to do.
type Intent string

// Intents of a login attempt.
const (
	IntentValid         Intent = "valid"
	IntentWrongPassword Intent = "wrong_password"
	IntentUnknownUser   Intent = "unknown_user"
)

// Outcome is the runner's judgement of one hit.
type Outcome string

// Outcomes of one hit.
const (
	OutcomeOK             Outcome = "ok"
	OutcomeExpectedReject Outcome = "expected_reject" // a rejection of deliberately wrong credentials
	OutcomeFailed         Outcome = "failed"
)

// Classes of transport errors (a result with no HTTP status), recorded in
// HeaderErrorClass.
const (
	ErrRefused        = "refused"         // ECONNREFUSED: nothing listening
	ErrReset          = "reset"           // ECONNRESET
	ErrEOF            = "eof"             // connection closed before a response
	ErrConnectTimeout = "connect_timeout" // timed out while connecting: the network
	ErrClientTimeout  = "client_timeout"  // request sent, no answer in time: ambiguous
	ErrIOTimeout      = "io_timeout"      // a read/write deadline: the network
	ErrTLS            = "tls"
	ErrDNS            = "dns"
	ErrGenFiles       = "generator_files" // EMFILE/ENFILE on the load generator
	ErrGenPorts       = "generator_ports" // no ephemeral ports left on the load generator
	ErrGenPool        = "generator_pool"  // timed out waiting for one of the generator's own connections
	ErrOther          = "other"
)

// Run statuses, in the manifest and the run_end event.
const (
	StatusRunning     = "running"
	StatusCompleted   = "completed"
	StatusInterrupted = "interrupted"
	StatusAborted     = "aborted" // the scenario's abort rule stopped the surge
	// StatusPartial is a merged run missing a shard, or holding one that
	// never finished (Manifest.Partial says which).
	StatusPartial = "partial"
	// StatusMissing is a shard of a merged run whose directory was not
	// given (MergedShard.Status).
	StatusMissing = "missing"
)
