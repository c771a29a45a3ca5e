package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

// command is one subcommand: a name, a one-line summary and its entry point.
type command struct {
	name    string
	args    string // usage after the name, e.g. "SCENARIO [flags]"
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands lists the subcommands; it is built per call, not held globally.
func commands() []command {
	return []command{
		{"run", "SCENARIO [flags]", "run a scenario (file or example name) and record it in a run directory", cmdRun},
		{"find-limit", "SCENARIO [flags]", "find the sustainable rate: trials raised until the SLO fails, then bisected; run's flags", cmdFindLimit},
		{"version", "", "print version, commit and build date", cmdVersion},
		{"report", "RUN_DIR [--format text|json|junit|markdown|html] [--allow-partial]", "re-analyse a run directory: print its report, rewrite its report files; exit 1 if a merged run is partial", cmdReport},
		{"merge", "DIR... --out DIR [--allow-partial]", "join the run directories of a sharded run's shards into one, for report; exit 1 if a shard is missing", cmdMerge},
		{"compare", "OLD NEW [--format text|json|markdown]", "compare two runs (report.json or run directory); exit 1 on a regression beyond the noise", cmdCompare},
		{"validate", "SCENARIO...", "check scenario files or example names strictly; nothing is sent", cmdValidate},
		{"schema", "", "print the JSON Schema of scenario files", cmdSchema},
		{"fixture", "[flags]", "run the bundled login service and a throwaway PostgreSQL until Ctrl-C", cmdFixture},
		{"k8s", "SCENARIO --shards N --image IMAGE [-- run flags]", "print Kubernetes manifests for a sharded run: an Indexed Job, its barrier Service, the scenario, a runs volume", cmdK8s},
		{"chaos", "restore [RUN_DIR] [--dsn DSN]", "undo the faults an interrupted run left in force, from its journal", cmdChaos},
	}
}

const helpExamples = `Examples:
  stampede run smoke                    # a few seconds against the bundled fixture
  stampede run surge --fixture-db-pool 5
  stampede run my-login.yaml --target http://127.0.0.1:8080
  stampede run gameday                  # the incident, with a network decoy: what make demo runs
  stampede find-limit steps --fixture-db-pool 5 --fixture-db-hold 50ms
  stampede report runs/<dir> --format html > report.html
  stampede compare runs/old runs/new
  stampede fixture                      # bundled login service + throwaway PostgreSQL
  stampede fixture --db-pool 10 --db-hold 50ms --max-connections 40
  stampede version
`

func printHelp(w io.Writer) {
	fmt.Fprintf(w, "stampede: load-and-chaos harness for login flows\n\nUsage:\n  stampede COMMAND [ARGS] [flags]\n\nCommands:\n")
	cmds := commands()
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\n%s\nRun 'stampede COMMAND --help' for a command's flags.\n", helpExamples)
}

func runMain(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		printHelp(e.stderr)
		return usageErr("no command given")
	}
	name := args[0]
	switch name {
	case "-h", "--help", "help":
		printHelp(e.stdout)
		return nil
	case "-v", "--version":
		return cmdVersion(ctx, e, nil)
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, e, args[1:])
		}
	}
	if strings.HasPrefix(name, "-") {
		return usageErr("unknown flag %q before a command; see 'stampede --help'", name)
	}
	return usageErr("unknown command %q; see 'stampede --help'", name)
}
