// Package engine runs a scenario: the pacer that turns the plan into send
// times (and the adaptive pacer a search extends as it goes), the
// login-flow targeter, the tracing transport that classifies errors, the
// recorder that fills the run directory (results, timeline, manifest, as
// package rundir defines them), the live SLO judgement behind abort: and
// mode: search, and Run, which ties them into one vegeta attack.
//
// The engine holds no terminal and no OS signals: a caller stops a run
// through a Control and watches it through a Progress.
package engine
