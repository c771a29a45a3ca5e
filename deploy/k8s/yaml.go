package k8s

import (
	"encoding/json"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// Write prints objs as one multi-document YAML stream, without the empty
// status a built object carries.
func Write(w io.Writer, objs ...runtime.Object) error {
	for i, obj := range objs {
		data, err := json.Marshal(obj)
		if err != nil {
			return fmt.Errorf("k8s: encode %T: %w", obj, err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("k8s: encode %T: %w", obj, err)
		}
		delete(m, "status")
		out, err := yaml.Marshal(m)
		if err != nil {
			return fmt.Errorf("k8s: encode %T: %w", obj, err)
		}
		sep := "---\n"
		if i == 0 {
			sep = ""
		}
		if _, err := fmt.Fprintf(w, "%s%s", sep, out); err != nil {
			return fmt.Errorf("k8s: write manifests: %w", err)
		}
	}
	return nil
}
