package report

// Analyze reads a run directory and analyses it. The steps run here, in
// the order the data flows, each in its own file with one entry function:
//
//	readInputs      inputs.go       manifest, scenario, timeline (read once)
//	setup           setup.go        what the run says of itself; SLO, gates, plan
//	decode          decode.go       one streaming pass over results.bin into windows
//	buildWindows    windows.go      windows, stages and totals from that pass
//	joinTimeline    join.go         samples, probes, generator reports, faults
//	diagnoseWindows evidence.go     each degraded window's cause, from its evidence
//	requestProblem  request.go      every login failed the same way from the start: the request is wrong
//	findLimit       limit.go        sustainable rate, breaking point (a search's bracket)
//	attribute       attribution.go  the run's cause
//	scorecard       scorecard.go    injected faults beside the causes detected
//	recommend       recommend.go    connection sizing and alerts
//	judge           checks.go       noise, baseline, SLO checks and gates, verdict
//	                                (then a request problem takes the verdict's place)
func Analyze(dir string, opts Options) (*Report, error) {
	in, err := readInputs(dir)
	if err != nil {
		return nil, err
	}
	r, fr := setup(dir, in, opts)
	acc, err := decode(dir, r, fr)
	if err != nil {
		return nil, err
	}
	buildWindows(r, acc, fr)
	joinTimeline(r, in.tl)
	baseWins, base, pl := diagnoseWindows(r)
	requestProblem(r, r.requests)
	findLimit(r, fr.plan)
	r.Cause = attribute(r, base, pl)
	r.Scorecard = scorecard(r.Windows, r.Faults, func(d []*Window) string { return causeOf(r.Windows, d, base, pl) })
	r.Recommend = recommend(r, baseWins, targetRPS(opts, fr.plan))
	judge(r, opts)
	stateRequestProblem(r)
	return r, nil
}
