package report

// Check is one SLO check or gate, for JUnit and the verdict.
type Check struct {
	Name    string
	Kind    string // "slo" or "gate"
	Passed  bool
	Skipped bool
	Detail  string
}
