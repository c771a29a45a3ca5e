package main

import (
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCIGateHalvedPool is the CI user's story: the embedded ci-gate passes on
// the bundled fixture (exit 0), and with the fixture's database pool halved
// it fails (exit 1) with a junit case and a terminal line naming the failed
// gate and the cause.
func TestCIGateHalvedPool(t *testing.T) {
	if testing.Short() {
		t.Skip("two 15 s runs against the bundled fixture")
	}
	dir := t.TempDir()
	e, _, stderr := testEnv(nil)
	if err := runMain(context.Background(), e, []string{"run", "ci-gate", "--quiet", "--fixture-users", "200",
		"--out", filepath.Join(dir, "ok")}); err != nil {
		t.Fatalf("ci-gate on the fixture: %v (exit %d)\n%s", err, exitCode(err), stderr)
	}

	out := filepath.Join(dir, "halved")
	e, stdout, _ := testEnv(nil)
	err := runMain(context.Background(), e, []string{"run", "ci-gate", "--quiet", "--fixture-users", "200",
		"--fixture-db-pool", "5", "--out", out})
	if exitCode(err) != exitGateFailed {
		t.Fatalf("ci-gate with the pool halved: %v (exit %d), want exit 1\n%s", err, exitCode(err), stdout)
	}
	if msg := err.Error(); !strings.Contains(msg, "gate.") || !strings.Contains(msg, "db.connections") {
		t.Errorf("the closing line should name the failed gate and the cause: %q", msg)
	}
	b, rerr := os.ReadFile(filepath.Join(out, "junit.xml"))
	if rerr != nil {
		t.Fatal(rerr)
	}
	var suites struct {
		Suites []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &suites); err != nil {
		t.Fatalf("junit.xml: %v", err)
	}
	failedGates := 0
	for _, s := range suites.Suites {
		for _, c := range s.Cases {
			if strings.HasPrefix(c.Name, "gate.") && c.Failure != nil {
				failedGates++
				t.Logf("junit: %s: %s", c.Name, c.Failure.Message)
			}
		}
	}
	if failedGates == 0 {
		t.Errorf("junit.xml has no failed gate case:\n%s", b)
	}
}
