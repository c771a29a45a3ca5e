package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/spf13/pflag"
)

func cmdVersion(_ context.Context, e *env, args []string) error {
	fs := newFlagSet("version", "", e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("version takes no arguments")
	}
	fmt.Fprintf(e.stdout, "stampede %s (commit %s, built %s, %s %s/%s)\n",
		version, commit, date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// newFlagSet returns a pflag set that reports errors instead of exiting.
func newFlagSet(name, args string, e *env) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: stampede %s %s\n\nFlags:\n%s", name, args, fs.FlagUsages())
	}
	return fs
}

// parseFlags parses args, turning flag errors into usage errors (exit 2)
// and --help into a quiet success.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return errHelp
		}
		return usageErr("%s: %v", fs.Name(), err)
	}
	return nil
}
