package k8s

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
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

// Decode reads a stream written by Write back into typed objects with the
// Kubernetes scheme (core and batch), strictly: a field the API does not
// know is an error, as the API server's strict validation would make it.
func Decode(stream []byte) ([]runtime.Object, error) {
	scheme := runtime.NewScheme()
	if err := errors.Join(corev1.AddToScheme(scheme), batchv1.AddToScheme(scheme)); err != nil {
		return nil, fmt.Errorf("k8s: scheme: %w", err)
	}
	dec := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	var objs []runtime.Object
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("k8s: read document %d: %w", len(objs)+1, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, _, err := dec.Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("k8s: decode document %d: %w", len(objs)+1, err)
		}
		objs = append(objs, obj)
	}
}
