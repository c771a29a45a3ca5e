package report

// Causes, from DESIGN.md's taxonomy.
const (
	CauseDBConnections = "db.connections"
	CauseDBQueries     = "db.queries"
	CauseNetClient     = "network.client"
	CauseNetDB         = "network.db"
	CauseApp           = "app"
	CauseGenerator     = "generator"
	CauseNone          = "none"
	CauseUndetermined  = "undetermined"
)

// Cause is a diagnosis: one primary cause, how sure, the evidence with its
// figures, and what was ruled out (also with figures).
type Cause struct {
	Primary    string
	Confidence string // high, medium, low
	Evidence   []string
	RuledOut   []string
	// NotChecked names what could not be checked for lack of data.
	NotChecked []string
	// Windows is how many degraded windows the diagnosis covers; From is
	// the first one's start.
	Windows int
	From    float64
}
