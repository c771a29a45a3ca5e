package chart

import (
	"fmt"

	"github.com/stampede-load/stampede/report"
)

// CauseRGB marks degraded windows by cause, in the charts' strip.
func CauseRGB(c string) uint32 {
	switch c {
	case report.CauseDBConnections:
		return 0xd62728
	case report.CauseDBQueries:
		return 0xe377c2
	case report.CauseNetClient:
		return 0x9467bd
	case report.CauseNetDB:
		return 0x17becf
	case report.CauseApp:
		return 0xff7f0e
	case report.CauseGenerator:
		return 0x7f7f7f
	}
	return 0xbcbd22 // undetermined
}

// CauseColor is a cause's colour for CSS: "#d62728".
func CauseColor(c string) string { return fmt.Sprintf("#%06x", CauseRGB(c)) }

// LegendCauses are the causes in the order legends list them.
func LegendCauses() []string {
	return []string{report.CauseDBConnections, report.CauseDBQueries, report.CauseNetClient, report.CauseNetDB, report.CauseApp, report.CauseGenerator, report.CauseUndetermined}
}
