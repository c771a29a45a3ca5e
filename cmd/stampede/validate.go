package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/engine"
)

// cmdValidate loads each scenario strictly and reports it; nothing is sent,
// unless --target names a service: then each valid scenario's smoke login
// is sent to it (see smokeLogin).
func cmdValidate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("validate", "SCENARIO... [--target URL]", e)
	target := fs.String("target", "", "also send each scenario's smoke login (one valid login, one wrong one) to this service")
	allowRemote := fs.Bool("allow-remote", false, "allow a --target that is not a loopback address")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErr("validate needs at least one SCENARIO (a file or an example: %s)", strings.Join(scenarios.Examples(), ", "))
	}
	bad := 0
	for _, name := range fs.Args() {
		line, err := validateOne(name)
		if err != nil {
			bad++
			fmt.Fprintf(e.stdout, "%v\n", err)
			continue
		}
		fmt.Fprintln(e.stdout, line)
	}
	if bad > 0 {
		return usageErr("%d of %d scenarios invalid; nothing was sent", bad, fs.NArg())
	}
	if *target == "" {
		return nil
	}
	for _, name := range fs.Args() {
		if err := smokeAgainst(ctx, e, name, *target, *allowRemote); err != nil {
			return err
		}
	}
	return nil
}

// smokeAgainst sends a valid scenario's smoke login to target.
func smokeAgainst(ctx context.Context, e *env, name, target string, allowRemote bool) error {
	sc, err := scenarios.LoadNamed(name)
	if err != nil {
		return usageErr("%v", err)
	}
	u, err := checkTarget(target, allowRemote || sc.AllowRemote)
	if err != nil {
		return err
	}
	if sc.Credentials.File == "" {
		return usageErr("%s: a smoke login against %s needs credentials: set credentials.file in the scenario", sc.Path, u.Redacted())
	}
	creds, err := engine.LoadCredentials(sc.Credentials.File)
	if err != nil {
		return usageErr("%v", err)
	}
	if err := smokeLogin(ctx, e, sc, u, creds); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "ok  %s  smoke login against %s\n", sc.Path, u.Redacted())
	return nil
}

// validateOne loads one scenario and builds its pacer, and says what it
// would run: "ok  FILE  (N stages, D total, peak R/s)".
func validateOne(name string) (string, error) {
	sc, p, err := loadChecked(name)
	if err != nil {
		return "", err
	}
	stages := "stages"
	if len(sc.Stages) == 1 {
		stages = "stage"
	}
	return fmt.Sprintf("ok  %s  (%d %s, %s total, peak %s/s)", sc.Path, len(sc.Stages), stages,
		compactDuration(p.Duration()), strconv.FormatFloat(p.PeakRate(), 'f', -1, 64)), nil
}

// loadChecked loads a scenario strictly and builds its pacer, as validate
// and k8s check it before anything leaves the machine.
func loadChecked(name string) (*scenarios.Scenario, *engine.Pacer, error) {
	sc, err := scenarios.LoadNamed(name)
	if err != nil {
		return nil, nil, err
	}
	p, err := engine.NewPacer(sc.Stages, 1)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", sc.Path, err)
	}
	return sc, p, nil
}

// compactDuration drops trailing zero units: 1m0s → 1m, 1h0m0s → 1h.
func compactDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
