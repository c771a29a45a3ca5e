package scenarios

import "testing"

// TestNullPathAndFixtureShape: null_path defaults, turns off with "off"
// (YAML's old boolean spelling stays text), and the fixture's shape keys load.
func TestNullPathAndFixtureShape(t *testing.T) {
	for body, want := range map[string]string{
		"":                               DefaultNullPath,
		"evidence: {null_path: off}\n":   "off",
		"evidence: {null_path: /nope}\n": "/nope",
	} {
		s, err := LoadBytes("x.yaml", []byte("stages:\n  - constant: {rate: 1, for: 1s}\n"+body))
		if err != nil || s.Evidence.NullPath != want {
			t.Errorf("%q: null_path %q (%v), want %q", body, s.Evidence.NullPath, err, want)
		}
	}
	s, err := LoadBytes("x.yaml", []byte("stages:\n  - constant: {rate: 1, for: 1s}\n"+
		"fixture: {conn_per_login: true, hot_row: true, hash_cost: 10, opaque_errors: true, no_pool_endpoint: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f := s.Fixture; !f.ConnPerLogin || !f.HotRow || f.HashCost != 10 || !f.OpaqueErrors || !f.NoPoolEndpoint {
		t.Errorf("fixture = %+v, want every shape key set", f)
	}
}
