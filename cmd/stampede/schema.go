package main

import (
	"context"
	"fmt"

	"github.com/stampede-load/stampede/scenarios"
)

// cmdSchema prints the JSON Schema of scenario files, for editors and CI.
func cmdSchema(_ context.Context, e *env, args []string) error {
	fs := newFlagSet("schema", "", e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("schema takes no arguments")
	}
	data, err := scenarios.JSONSchema()
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	_, err = e.stdout.Write(data)
	return err
}
