package scenarios

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// LoadError is one problem in a scenario file, at a position in it.
type LoadError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// LoadErrors is every problem found in a scenario file, sorted by position.
// Load returns it as its error when the file is invalid.
type LoadErrors []*LoadError

// Error prints one problem per line.
func (es LoadErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *LoadError.
func (es LoadErrors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

func (es LoadErrors) sort() {
	slices.SortStableFunc(es, func(a, b *LoadError) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
}

// embeddedPrefix marks a scenario loaded from the embedded examples.
const embeddedPrefix = "embedded:"

// Load reads, checks and fills in the scenario file at path. When the file
// is invalid the error is a LoadErrors listing every problem found.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenarios: read scenario: %w", err)
	}
	return LoadBytes(path, data)
}

// LoadNamed loads the file at nameOrPath or, when there is no such file and
// the name has neither a slash nor an extension, the embedded example of
// that name (with Path "embedded:NAME").
func LoadNamed(nameOrPath string) (*Scenario, error) {
	_, statErr := os.Stat(nameOrPath)
	if statErr == nil || strings.ContainsAny(nameOrPath, `/\`) || filepath.Ext(nameOrPath) != "" {
		return Load(nameOrPath)
	}
	data, ok := Example(nameOrPath)
	if !ok {
		return nil, fmt.Errorf("scenarios: no scenario file %q and no embedded example of that name (embedded: %s): %w",
			nameOrPath, strings.Join(Examples(), ", "), statErr)
	}
	return LoadBytes(embeddedPrefix+nameOrPath, data)
}

// LoadBytes checks and fills in a scenario from data; name is the file
// name used in messages, for the default scenario name, and to resolve the
// credentials file (relative to name's directory).
func LoadBytes(name string, data []byte) (*Scenario, error) {
	d := &decoder{file: name, budget: maxNodes, nodes: map[string]*yaml.Node{}}
	root := d.parse(data)
	s := &Scenario{}
	if root != nil {
		d.decodeObject(root, scenarioSpec(), valueOf(s), "")
		d.check(s, filepath.Dir(name))
	}
	if len(d.errs) > 0 {
		d.errs.sort()
		return nil, d.errs
	}
	if s.Name == "" {
		base := filepath.Base(strings.TrimPrefix(name, embeddedPrefix))
		s.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	s.Path = name
	s.Raw = slices.Clone(data)
	return s, nil
}

// maxNodes bounds the YAML nodes visited in one file, aliases expanded, so
// that a small file of nested aliases cannot make loading explode.
const maxNodes = 100000

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

// parse reads the single YAML document in data and returns its top-level
// map, or nil after recording why it cannot.
func (d *decoder) parse(data []byte) (root *yaml.Node) {
	defer func() {
		if r := recover(); r != nil { // yaml.v3 has panicked on odd input before
			d.errs = append(d.errs, &LoadError{File: d.file, Line: 1, Col: 1, Msg: fmt.Sprintf("cannot parse YAML: %v", r)})
			root = nil
		}
	}()
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errorAt(1, 1, "the file is empty; a scenario needs at least stages, e.g.\nstages:\n  - constant: {rate: 20, for: 10s}")
			return nil
		}
		d.yamlError(err, data)
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		d.errorf(&next, "a second YAML document (---); a scenario file holds one, so move it to its own file")
	} else if !errors.Is(err, io.EOF) {
		d.yamlError(err, data)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		d.errorAt(1, 1, "the file has no content; a scenario needs at least stages")
		return nil
	}
	root = d.resolve(doc.Content[0])
	if root == nil {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		if isNull(root) {
			d.errorAt(max(root.Line, 1), max(root.Column, 1), "the file has only comments; a scenario needs at least stages, e.g.\nstages:\n  - constant: {rate: 20, for: 10s}")
		} else {
			d.errorf(root, "a scenario is a map of keys (name:, stages:, ...), not %s", describe(root))
		}
		return nil
	}
	return root
}

// yamlError records a syntax error from the YAML parser. The parser's line
// numbers are those of the construct's start, and sometimes one short, so
// the line recorded is the first one whose prefix of the file fails with
// the same message.
func (d *decoder) yamlError(err error, data []byte) {
	line := 1
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil && n >= 1 {
			line = n
		}
	}
	if n := failingLine(data, err, line); n > 0 {
		line = n
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = yamlLineRe.ReplaceAllString(msg, "")
	msg = strings.TrimLeft(msg, ": ")
	if strings.Contains(msg, "cannot start any token") {
		msg += " (a tab? YAML indents with spaces only)"
	}
	d.errorAt(line, 1, "YAML syntax error: %s; check indentation and quoting (quote values that contain ': ' or start with '{', '[', '*', '&')", msg)
}

// failingLine is the first line n >= from such that the file's first n
// lines fail to parse with the same message as err; 0 when not found.
// Files of more than maxProbeLines lines are not probed.
func failingLine(data []byte, err error, from int) int {
	const maxProbeLines = 2000
	want := yamlLineRe.ReplaceAllString(err.Error(), "")
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) > maxProbeLines {
		return 0
	}
	var prefix strings.Builder
	for i, l := range lines {
		prefix.WriteString(l)
		if i+1 < from {
			continue
		}
		var n yaml.Node
		if perr := probeParse(prefix.String(), &n); perr != nil && yamlLineRe.ReplaceAllString(perr.Error(), "") == want {
			return i + 1
		}
	}
	return 0
}

// probeParse parses every document of s, turning a parser panic into an error.
func probeParse(s string, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	dec := yaml.NewDecoder(strings.NewReader(s))
	for {
		if err := dec.Decode(n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
