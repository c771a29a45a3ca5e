package engine

// ClassifyProbeError names a probe request's failure (an Err* class), as
// the transport names a load request's: connecting says whether the probe
// was still connecting when it failed.
func ClassifyProbeError(err error, connecting bool) string {
	return classifyTransportError(err, false, connecting, !connecting, !connecting)
}
