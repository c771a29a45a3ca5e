package report

import "time"

// Recommendations size the database connections and set alert thresholds
// from what the run measured.
type Recommendations struct {
	// HoldTime is how long one login holds a database connection; HoldSource
	// says where it came from.
	HoldTime   time.Duration
	HoldSource string
	Sizing     []Sizing
	Alerts     []Alert
	// Lines are the recommendations in words.
	Lines []string
}

// Sizing is Little's law for one rate: connections = rate × hold, plus headroom.
type Sizing struct {
	RPS         float64
	Connections int // with headroom
	Busy        float64
	Headroom    float64
}

// Alert is a threshold on connection utilisation.
type Alert struct {
	Name        string // warn, page
	Metric      string
	Utilisation float64 // 0..1
	Why         string
}
