package main

import (
	"encoding/json"
	"testing"
)

func TestSchemaCommand(t *testing.T) {
	out, _, code := runCLI(t, "schema")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" || s["properties"] == nil {
		t.Errorf("not a 2020-12 schema with properties: %.200s", out)
	}
	if _, _, code := runCLI(t, "schema", "extra"); code != exitUsage {
		t.Errorf("schema with an argument: exit %d, want %d", code, exitUsage)
	}
}
