package report

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The decoding goroutine hands results over in batches that are reused:
// fn still sees every result once, in file order, with its own headers and
// none of the previous result's fields.
func TestDecodeResultsOrderAcrossBatches(t *testing.T) {
	const n = nBatches*batchLen*2 + 7
	var buf bytes.Buffer
	enc := vegeta.NewEncoder(&buf)
	for i := range n {
		r := vegeta.Result{Seq: uint64(i), Code: 200, Headers: http.Header{"Seq": {strconv.Itoa(i)}}}
		if i%3 == 0 { // fields the next result must not inherit
			r.Error, r.Body, r.Headers["Odd"] = "boom", []byte("x"), []string{"1"}
		}
		if err := enc.Encode(&r); err != nil {
			t.Fatal(err)
		}
	}
	next := 0
	got, note, err := decodeResults(&buf, func(r *vegeta.Result) {
		if r.Seq != uint64(next) || hget(r.Headers, "Seq") != strconv.Itoa(next) {
			t.Errorf("result %d: seq %d, header %q", next, r.Seq, hget(r.Headers, "Seq"))
		}
		if odd := next%3 == 0; odd != (r.Error != "") || odd != (len(r.Body) > 0) || odd != (len(r.Headers["Odd"]) > 0) {
			t.Errorf("result %d: error %q, body %q, headers %v: fields of another result", next, r.Error, r.Body, r.Headers)
		}
		next++
	})
	if err != nil || note != "" || got != n || next != n {
		t.Errorf("decoded %d, fn saw %d, note %q, err %v; want %d", got, next, note, err, n)
	}
}
