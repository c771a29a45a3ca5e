package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-load/stampede/scenarios/rundir"
	"gopkg.in/yaml.v3"
)

const stageExample = "- constant: {rate: 50, for: 10s}"

// decodeStages decodes the stages list: each item is a map with exactly
// one key, the stage kind, whose value holds the stage's fields.
func (d *decoder) decodeStages(v *yaml.Node, dst *[]Stage, path string) {
	kinds := strings.Join(stageKindNames(), ", ")
	if v.Kind != yaml.SequenceNode {
		d.errorf(v, "%s must be a list of stages, got %s; write e.g.\nstages:\n  %s", path, describe(v), stageExample)
		return
	}
	if len(v.Content) == 0 {
		d.errorf(v, "%s is empty; add at least one stage, e.g.\nstages:\n  %s", path, stageExample)
		return
	}
	before := len(d.errs)
	defer func() { d.stagesOK = len(d.errs) == before }()
	for i, item := range v.Content {
		item = d.resolve(item)
		if item == nil {
			return
		}
		at := fmt.Sprintf("%s[%d]", path, i)
		if item.Kind != yaml.MappingNode {
			d.errorf(item, "%s must be a map with one key naming its kind (%s), got %s; write e.g. %s", at, kinds, describe(item), stageExample)
			continue
		}
		switch n := len(item.Content) / 2; {
		case n == 0:
			d.errorf(item, "%s is empty; a stage is a map with one key naming its kind (%s), e.g. %s", at, kinds, stageExample)
			continue
		case n > 1:
			var keys []string
			for j := 0; j+1 < len(item.Content); j += 2 {
				keys = append(keys, item.Content[j].Value)
			}
			d.errorf(item.Content[2], "%s has %d keys (%s); a stage is a map with exactly one key naming its kind (%s): split it into one list item per kind, and put name and the other fields inside the kind's map, e.g. %s",
				at, n, strings.Join(keys, ", "), kinds, stageExample)
			continue
		}
		k, val := item.Content[0], d.resolve(item.Content[1])
		if val == nil {
			return
		}
		spec := stageSpecFor(k.Value)
		if spec == nil {
			d.unknownStageKind(k, at, kinds)
			continue
		}
		at += "." + k.Value
		if val.Kind != yaml.MappingNode {
			d.errorf(val, "%s must be a map of its fields (%s), got %s; write e.g. %s", at, strings.Join(spec.obj.keys(), ", "), describe(val), stageExample)
			continue
		}
		st := Stage{Kind: spec.kind, Line: k.Line, Name: string(spec.kind) + " " + strconv.Itoa(i+1)}
		before := len(d.errs)
		d.decodeObject(val, spec.obj, reflect.ValueOf(&st).Elem(), at)
		if len(d.errs) == before {
			d.checkStage(&st, k, at)
		}
		*dst = append(*dst, st)
	}
}

func (d *decoder) unknownStageKind(k *yaml.Node, at, kinds string) {
	for _, s := range stageSpecs() {
		if s.obj.lookup(k.Value) != nil {
			d.errorf(k, "%s: %q is a stage field, not a kind; put the fields under the kind (%s), e.g. %s", at, k.Value, kinds, stageExample)
			return
		}
	}
	msg := fmt.Sprintf("%s: unknown stage kind %q; allowed: %s", at, k.Value, kinds)
	if s := nearest(k.Value, stageKindNames()); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	d.errorf(k, "%s", msg)
}

// checkStage checks what a stage's fields must satisfy together, and
// derives a steps stage's Duration.
func (d *decoder) checkStage(st *Stage, k *yaml.Node, at string) {
	node := func(key string) *yaml.Node {
		if n := d.nodes[at+"."+key]; n != nil {
			return n
		}
		return k
	}
	switch st.Kind {
	case StageSteps:
		if st.To < st.From {
			d.errorf(node("to"), "%s.to (%g) is below from (%g); steps go up: write to >= from, e.g. to: %g", at, st.To, st.From, st.From+4*st.Step)
			return
		}
		n, err := rundir.StepCount(st.From, st.To, st.Step)
		if err != nil {
			d.errorf(node("step"), "%s: %v; write a larger step", at, err)
			return
		}
		if last := st.From + float64(n-1)*st.Step; math.Abs(last-st.To) > 1e-9*math.Max(1, st.To) {
			d.errorf(node("to"), "%s.to (%g) is not reached from %g in steps of %g; write to: %g or to: %g", at, st.To, st.From, st.Step, last, last+st.Step)
			return
		}
		if st.Hold > math.MaxInt64/time.Duration(n) {
			d.errorf(node("hold"), "%s: %d steps of %s is too long; write a shorter hold", at, n, st.Hold)
			return
		}
		st.Duration = time.Duration(n) * st.Hold
	case StageSpike:
		if st.At > st.Duration-st.SpikeFor {
			d.errorf(node("spike_for"), "%s: the peak (at %s + spike_for %s) ends after the stage (for %s); write for: %s or more, or an earlier at",
				at, st.At, st.SpikeFor, st.Duration, st.At+st.SpikeFor)
		}
	}
}

// faultExample is what a fault looks like, for messages.
const faultExample = "- {kind: db.conn_limit, start: 20s, for: 10s, limit: 5}"

// decodeFaults decodes the faults list: kind, start and for are checked
// here; every other key goes into Params for the chaos package.
func (d *decoder) decodeFaults(v *yaml.Node, dst *[]Fault, path string) {
	if v.Kind != yaml.SequenceNode {
		d.errorf(v, "%s must be a list of faults, got %s; write e.g.\nfaults:\n  %s", path, describe(v), faultExample)
		return
	}
	for i, item := range v.Content {
		item = d.resolve(item)
		if item == nil {
			return
		}
		at := fmt.Sprintf("%s[%d]", path, i)
		if item.Kind != yaml.MappingNode {
			d.errorf(item, "%s must be a map with kind, start and for, got %s; write e.g. %s", at, describe(item), faultExample)
			continue
		}
		f := Fault{Line: item.Line, Col: item.Column, Params: map[string]any{}}
		d.decodeFields(item, faultSpec(), reflect.ValueOf(&f).Elem(), at, f.Params)
		*dst = append(*dst, f)
	}
}

// maxParamDepth bounds how deeply a fault's parameters may nest.
const maxParamDepth = 32

// decodeAny decodes a fault parameter: scalars to string, int, float64 or
// bool, maps (with text keys) and lists recursively.
func (d *decoder) decodeAny(n *yaml.Node, path string, depth int) any {
	if n = d.resolve(n); n == nil {
		return nil
	}
	if depth > maxParamDepth && n.Kind != yaml.ScalarNode {
		if !d.tooDeep {
			d.tooDeep = true
			d.errorf(n, "%s nests more than %d levels (a recursive alias?); write the value out", path, maxParamDepth)
		}
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
				d.errorf(k, "%s: keys must be plain words", path)
				continue
			}
			if _, dup := m[k.Value]; dup {
				d.errorf(k, "%s.%s is set twice; keep one", path, k.Value)
				continue
			}
			m[k.Value] = d.decodeAny(n.Content[i+1], path+"."+k.Value, depth+1)
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			l = append(l, d.decodeAny(c, fmt.Sprintf("%s[%d]", path, i), depth+1))
		}
		return l
	}
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int":
		var i int
		if n.Decode(&i) == nil {
			return i
		}
		var x float64
		if n.Decode(&x) == nil {
			return x
		}
	case "!!float":
		var x float64
		if n.Decode(&x) == nil {
			return x
		}
	}
	return n.Value
}

// nearest is the candidate closest to s by edit distance, when close
// enough to be a likely typo; "" otherwise.
func nearest(s string, candidates []string) string {
	best, bestD := "", math.MaxInt
	low := strings.ToLower(s)
	for _, c := range candidates {
		if len(low) >= 3 && strings.HasPrefix(c, low) { // an abbreviation: "const"
			return c
		}
		if dist := editDistance(low, c); dist < bestD {
			best, bestD = c, dist
		}
	}
	if bestD <= max(2, len(s)/3) && bestD < len(s) {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 { // not a typo of a key; keep it cheap
		return math.MaxInt / 2
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
