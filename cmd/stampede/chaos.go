package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/stampede-load/stampede/chaos"
)

// runsRoot is where runs are recorded by default, relative to the working
// directory.
const runsRoot = "runs"

// cmdChaos: stampede chaos restore [RUN_DIR] [--dsn DSN].
func cmdChaos(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErr("chaos needs a subcommand: stampede chaos restore [RUN_DIR] [--dsn DSN]")
	}
	switch args[0] {
	case "restore":
		return cmdChaosRestore(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(e.stdout, "Usage: stampede chaos restore [RUN_DIR] [--dsn DSN]\n\n"+
			"Undo the faults an interrupted run left in force (from RUN_DIR/%s).\n", chaos.JournalFile)
		return nil
	}
	return usageErr("unknown chaos subcommand %q; try 'stampede chaos restore'", args[0])
}

// cmdChaosRestore undoes every journaled injection of a run that was not
// reverted: role connection limits, hog roles and sessions, lock holders,
// toxics and disabled proxies on an external Toxiproxy.
func cmdChaosRestore(ctx context.Context, e *env, args []string) error {
	flags := newFlagSet("chaos restore", "[RUN_DIR] [--dsn DSN]", e)
	dsn := flags.String("dsn", "", "admin connection string of the database the run changed (default $STAMPEDE_DSN); never printed")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() > 1 {
		return usageErr("chaos restore takes one RUN_DIR, got %d arguments", flags.NArg())
	}
	dir := flags.Arg(0)
	if dir == "" {
		newest, err := newestRunDir(runsRoot)
		if err != nil {
			return usageErr("no RUN_DIR given and %v", err)
		}
		dir = newest
		fmt.Fprintf(e.stdout, "run directory: %s (the newest under %s/)\n", dir, runsRoot)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usageErr("%s is not a run directory", dir)
	}
	if *dsn == "" && e.getenv != nil {
		*dsn = e.getenv("STAMPEDE_DSN")
	}
	if _, err := chaos.Restore(ctx, dir, *dsn, e.stdout); err != nil {
		return infraErr(err)
	}
	return nil
}

// newestRunDir returns the most recently modified directory under root.
func newestRunDir(root string) (string, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("there is no %s/ directory here", root)
	}
	if err != nil {
		return "", err
	}
	var best string
	var bestInfo fs.FileInfo
	for _, de := range entries {
		if !de.IsDir() {
			continue
		}
		info, err := de.Info()
		if err != nil {
			continue
		}
		if bestInfo == nil || info.ModTime().After(bestInfo.ModTime()) ||
			info.ModTime().Equal(bestInfo.ModTime()) && de.Name() > filepath.Base(best) {
			best, bestInfo = filepath.Join(root, de.Name()), info
		}
	}
	if best == "" {
		return "", fmt.Errorf("%s/ holds no run directory", root)
	}
	return best, nil
}
