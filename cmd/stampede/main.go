// Command stampede drives traffic surges against a login flow while injecting
// database and network faults, then reports the capacity limit and its cause.
//
// This package only parses flags and wires the library packages together;
// main is the only place that exits.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes, as DESIGN.md lists them.
const (
	exitOK          = 0   // ran and every gate passed
	exitGateFailed  = 1   // ran and a gate or SLO failed
	exitUsage       = 2   // bad usage or invalid scenario: nothing sent, nothing injected
	exitInfra       = 3   // preflight or infrastructure failure
	exitInterrupted = 130 // interrupted (results and report still written)
)

// Stamped at build time with -ldflags -X (see the Makefile).
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

// exitError carries an exit code up to main with the error that caused it.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

func infraErr(err error) error { return &exitError{code: exitInfra, err: err} }

// exitCode maps an error returned by a subcommand to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitInfra
}

// env is what a subcommand may touch of the outside world; tests build their own.
type env struct {
	stdout, stderr io.Writer
	// signals delivers SIGINT/SIGTERM; the first asks for a graceful stop,
	// the second for an immediate one.
	signals <-chan os.Signal
	getenv  func(string) string
}

func main() {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	e := &env{stdout: os.Stdout, stderr: os.Stderr, signals: sig, getenv: os.Getenv}
	tuneGC(e.getenv)
	stopProfiles := startProfiles(e)
	err := runMain(context.Background(), e, os.Args[1:])
	stopProfiles()
	if err != nil && !errors.Is(err, errQuiet) {
		fmt.Fprintf(os.Stderr, "stampede: %v\n", err)
	}
	os.Exit(exitCode(err))
}

// errQuiet marks an error whose message was already printed.
var errQuiet = errors.New("already reported")

// errHelp is returned when --help was asked for: exit 0, nothing more to say.
var errHelp = &exitError{code: exitOK, err: errQuiet}
