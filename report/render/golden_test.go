package render

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/reporttest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report/render/ -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run with -update after checking the diff:\n%s", name, firstDiff(got, want))
	}
}

// firstDiff shows the first differing line.
func firstDiff(got, want []byte) string {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl []byte
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if !bytes.Equal(gl, wl) {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + string(gl) + "\nwant: " + string(wl)
		}
	}
	return ""
}

func TestGoldenRenders(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(testing.TB) *reporttest.RunDir
	}{
		{"clean", reporttest.CleanRun},
		{"dbcap", reporttest.DBCapRun},
		{"drill", reporttest.DrillRun},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := analyzeDir(t, tc.run(t).Write())
			for _, f := range []struct {
				ext   string
				write func(*bytes.Buffer, *report.Report) error
			}{
				{"txt", func(b *bytes.Buffer, r *report.Report) error { return WriteText(b, r) }},
				{"json", func(b *bytes.Buffer, r *report.Report) error { return WriteJSON(b, r) }},
			} {
				var buf bytes.Buffer
				if err := f.write(&buf, r); err != nil {
					t.Fatal(err)
				}
				golden(t, tc.name+".golden."+f.ext, buf.Bytes())
			}
		})
	}
}
