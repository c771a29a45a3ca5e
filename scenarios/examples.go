package scenarios

import (
	"embed"
	"io/fs"
	"path"
	"strings"
)

// examples holds the example scenarios shipped in the binary; it is only
// read.
//
//go:embed examples/*.yaml
var examples embed.FS

// Examples lists the embedded example scenarios by name (file name without
// .yaml), sorted.
func Examples() []string {
	entries, err := fs.ReadDir(examples, "examples")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return names
}

// Example returns the YAML of the embedded example called name.
func Example(name string) ([]byte, bool) {
	if name == "" || strings.ContainsAny(name, `/\.`) {
		return nil, false
	}
	data, err := examples.ReadFile(path.Join("examples", name+".yaml"))
	if err != nil {
		return nil, false
	}
	return data, true
}
