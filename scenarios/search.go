package scenarios

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// SearchSettings is the scenario's search with every default resolved:
// From from the first stage when unset, MaxRate from the scenario's cap.
// It fails when the settings cannot work (a first trial past the budget,
// a rate above the safety cap).
func (s *Scenario) SearchSettings() (Search, error) {
	c := s.Search
	if c.Factor <= 1 {
		c.Factor = 1.5
	}
	if c.Precision <= 0 || c.Precision >= 1 {
		c.Precision = 0.05
	}
	if c.Budget <= 0 {
		c.Budget = 3 * time.Minute
	}
	if c.Hold <= 0 {
		c.Hold = 3 * time.Second
	}
	if c.MinRequests <= 0 {
		c.MinRequests = 200
	}
	capRate := s.MaxRate
	if capRate <= 0 {
		capRate = 5000
	}
	if c.MaxRate <= 0 {
		c.MaxRate = capRate
	}
	if c.From <= 0 && len(s.Stages) > 0 {
		c.From = stageStartRate(s.Stages[0])
	}
	switch {
	case c.MaxRate > capRate:
		return c, fmt.Errorf("search.max_rate (%g/s) is above max_rate (%g/s), the safety cap; lower it, or raise max_rate explicitly", c.MaxRate, capRate)
	case !(c.From > 0):
		return c, errors.New("search: no starting rate: set search.from, e.g. search: {from: 20}")
	case c.From > c.MaxRate:
		return c, fmt.Errorf("search.from (%g/s) is above the highest rate the search may try (%g/s)", c.From, c.MaxRate)
	}
	grace := JudgeGrace(s.SLO.Contract().WithDefaults().Latency, s.Client.Timeout)
	if first := c.Warmup + c.TrialHold(c.From) + grace; first > c.Budget {
		return c, fmt.Errorf("search.budget (%s) has no room for the first trial at %g/s (%s with warmup and judgement); raise the budget or from", c.Budget, c.From, first.Round(time.Millisecond))
	}
	return c, nil
}

// String describes a resolved search, e.g. "from 20/s x1.5 until within 5% or 3m".
func (c Search) String() string {
	return fmt.Sprintf("from %s/s x%s until within %s%% or %s (max %s/s; each trial %s warmup, hold >= %s and %d requests)",
		fnum(c.From), fnum(c.Factor), fnum(100*c.Precision), c.Budget, fnum(c.MaxRate), c.Warmup, c.Hold, c.MinRequests)
}

func fnum(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// stageStartRate is the rate a stage starts at.
func stageStartRate(st Stage) float64 {
	switch st.Kind {
	case StageConstant:
		return st.Rate
	case StageSpike:
		return st.Base
	}
	return st.From
}

// TrialHold is how long a trial at rate holds: at least c.Hold, and long
// enough to plan c.MinRequests requests.
func (c Search) TrialHold(rate float64) time.Duration {
	need := time.Duration(math.Ceil(float64(c.MinRequests) / rate * float64(time.Second)))
	return max(c.Hold, need)
}

// JudgeGrace is how long after a stretch of planned send times its SLO
// verdict waits: the SLO latency (a request in flight longer is slow
// anyway), at most the client timeout (every sent request is back by
// then), and a little for the result to reach the runner.
func JudgeGrace(latency, timeout time.Duration) time.Duration {
	g := latency
	if timeout > 0 && timeout < g {
		g = timeout
	}
	return g + 100*time.Millisecond
}
