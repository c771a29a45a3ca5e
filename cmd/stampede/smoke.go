package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/stampede-load/stampede/scenarios"
	"github.com/stampede-load/stampede/scenarios/engine"
)

// smokeLogin sends the smoke login (one valid login, one wrong one when the
// mix has them) after every preflight and before the first stage and the
// first fault. A login that is not answered as the scenario expects stops
// everything with exit 3 and the engine's message: the request, its
// answer, the likely fix.
func smokeLogin(ctx context.Context, e *env, sc *scenarios.Scenario, target *url.URL, creds []engine.Credential) error {
	if b := sc.Login.BasicAuth; b != nil {
		if _, _, err := b.Credentials(e.getenv); err != nil {
			return usageErr("%s: %v", sc.Path, err)
		}
	}
	err := engine.Smoke(ctx, engine.SmokeOptions{Scenario: sc, Target: target, Credentials: creds, Getenv: e.getenv})
	var se *engine.SmokeError
	switch {
	case errors.As(err, &se):
		return infraErr(err)
	case err != nil:
		return infraErr(fmt.Errorf("smoke login: %w", err))
	}
	what := "one valid login"
	if c := sc.Credentials; c.WrongPassword > 0 || c.UnknownUser > 0 {
		what += " and one wrong one"
	}
	fmt.Fprintf(e.stderr, "stampede: smoke login ok (%s answered as %s expects)\n", what, sc.Path)
	return nil
}
