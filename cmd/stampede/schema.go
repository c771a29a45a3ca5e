package main

import (
	"context"
	"fmt"

	"github.com/stampede-load/stampede/scenarios"
)

// cmdSchema prints the JSON Schema of scenario files, for editors and CI.
func cmdSchema(_ context.Context, e *env, args []string) error {
	fs := newFlagSet("schema", "[--format json|markdown]", e)
	format := fs.String("format", "json", "json (a JSON Schema for editors) or markdown (the reference in docs/scenarios.md)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("schema takes no arguments")
	}
	switch *format {
	case "json":
	case "markdown":
		_, err := e.stdout.Write(scenarios.MarkdownReference())
		return err
	default:
		return usageErr("schema: --format must be json or markdown, got %q", *format)
	}
	data, err := scenarios.JSONSchema()
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	_, err = e.stdout.Write(data)
	return err
}
