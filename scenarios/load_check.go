package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// check validates what spans several keys, once every key decoded cleanly.
// dir is the scenario file's directory, for the credentials file.
func (d *decoder) check(s *Scenario, dir string) {
	at := func(path string) *yaml.Node { return d.nodes[path] } // nil: line 1

	// Every rate under the safety cap (when the cap itself is valid).
	var total time.Duration
	for i, st := range s.Stages {
		for _, r := range stageRates(st) {
			if s.MaxRate > 0 && r.v > s.MaxRate {
				p := fmt.Sprintf("stages[%d].%s.%s", i, st.Kind, r.key)
				d.errorf(at(p), "%s (%g/s) is above max_rate (%g/s), the safety cap; lower it, or raise the cap explicitly with max_rate: %s",
					p, r.v, s.MaxRate, strconv.FormatFloat(r.v, 'f', -1, 64))
			}
		}
		if total > 1<<62-st.Duration {
			d.errorf(at(fmt.Sprintf("stages[%d].%s", i, st.Kind)), "stages add up to more than %s; write shorter stages", time.Duration(1<<62))
			return
		}
		total += st.Duration
	}

	c := &s.Credentials
	if c.WrongPassword+c.UnknownUser > 1 {
		d.errorf(at("credentials.unknown_user"), "credentials.wrong_password + credentials.unknown_user is %g, more than 1 (all logins); lower one, e.g. wrong_password: 0.05, unknown_user: 0.05",
			c.WrongPassword+c.UnknownUser)
	}
	if c.File != "" {
		path := c.File
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		if fi, err := os.Stat(path); err != nil || fi.IsDir() {
			d.errorf(at("credentials.file"), "credentials.file: no file %s (paths are relative to the scenario file's directory); write the path of a CSV of username,password", path)
		} else {
			c.File = path
		}
	}

	// Paths go through JoinURL when the run builds its URLs: check them
	// by the same rules here, so a bad one is a file:line error.
	paths := []struct{ key, v string }{{"login.path", s.Login.Path}}
	if p := s.Login.Preflight; p != nil {
		paths = append(paths, struct{ key, v string }{"login.preflight.path", p.Path})
	}
	if f := s.Login.FollowUp; f != nil {
		paths = append(paths, struct{ key, v string }{"login.follow_up.path", f.Path})
	}
	for _, p := range paths {
		if p.v == "" {
			continue // a missing required key was reported already
		}
		if _, err := parsePathRef(p.v); err != nil {
			d.errorf(at(p.key), "%s: %v; write a path and an optional query, e.g. /token?grant_type=password", p.key, err)
		}
	}

	if p := s.Login.Preflight; p != nil {
		switch p.From {
		case "cookie", "header":
			if p.Name == "" {
				d.errorf(at("login.preflight.from"), "login.preflight takes the token from a %s, so it needs its name; add e.g. name: csrf_token", p.From)
			}
		case "body":
			if p.Regex == "" {
				d.errorf(at("login.preflight.from"), "login.preflight takes the token from the body, so it needs a regex whose first group is the token; add e.g. regex: 'name=\"csrf\" value=\"([^\"]+)\"'")
			} else if re, err := regexp.Compile(p.Regex); err != nil || re.NumSubexp() < 1 {
				d.errorf(at("login.preflight.regex"), "login.preflight.regex must be a regular expression with a group (...) around the token; write e.g. regex: 'name=\"csrf\" value=\"([^\"]+)\"'")
			}
		}
	}

	if s.Gates.MaxP99AtRPS > 0 && s.Gates.MaxP99 == 0 {
		d.errorf(at("gates.max_p99_at_rps"), "gates.max_p99_at_rps says where to check max_p99, which is missing; add e.g. max_p99: 300ms")
	}

	// A search sets its own length as it goes, so only a run of stages
	// knows when a fault would come too late.
	for i, f := range s.Faults {
		if d.stagesOK && s.Mode != ModeSearch && f.Start >= total {
			d.errorf(at(fmt.Sprintf("faults[%d].start", i)), "faults[%d].start (%s) is at or after the end of the stages (%s), so the fault would never run; write a start below %s",
				i, f.Start, total, total)
		}
	}
}

type namedValue struct {
	key string
	v   float64
}

// stageRates lists a stage's rates by key.
func stageRates(st Stage) []namedValue {
	switch st.Kind {
	case StageConstant:
		return []namedValue{{"rate", st.Rate}}
	case StageRamp:
		return []namedValue{{"from", st.From}, {"to", st.To}}
	case StageSteps:
		return []namedValue{{"from", st.From}, {"to", st.To}}
	case StageSpike:
		return []namedValue{{"base", st.Base}, {"peak", st.Peak}}
	}
	return nil
}
