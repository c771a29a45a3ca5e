package scenarios

import (
	"bytes"
	"os"
	"testing"
)

// TestReferenceDocIsCurrent keeps docs/scenarios.md what the key table says;
// regenerate it with `make docs`.
func TestReferenceDocIsCurrent(t *testing.T) {
	got, err := os.ReadFile("../docs/scenarios.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, MarkdownReference()) {
		t.Fatal("docs/scenarios.md is stale: run `make docs`")
	}
	for _, key := range []string{"`slo.latency`", "`credentials.wrong_password`", "### `steps`", "`for`"} {
		if !bytes.Contains(got, []byte(key)) {
			t.Errorf("reference lacks %s", key)
		}
	}
}
