package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/stampede-load/stampede/deploy/k8s"
	"github.com/stampede-load/stampede/scenarios"
)

func TestK8sCommand(t *testing.T) {
	dir := t.TempDir()
	mergeFile := filepath.Join(dir, "merge.yaml")
	out, stderr, code := runCLI(t, "k8s", "surge", "--shards", "3", "--image", "registry.example/stampede:v1",
		"--name", "surge-1", "--dsn-secret", "pg-admin", "--merge-job", mergeFile,
		"--", "--target", "http://login.default.svc:8080", "--allow-remote", "--dsn", "postgres://admin@db:5432/app")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	objs, err := k8s.Decode([]byte(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var (
		job *batchv1.Job
		svc *corev1.Service
		cm  *corev1.ConfigMap
		pvc *corev1.PersistentVolumeClaim
	)
	for _, o := range objs {
		switch v := o.(type) {
		case *batchv1.Job:
			job = v
		case *corev1.Service:
			svc = v
		case *corev1.ConfigMap:
			cm = v
		case *corev1.PersistentVolumeClaim:
			pvc = v
		}
	}
	if job == nil || svc == nil || cm == nil || pvc == nil {
		t.Fatalf("want a Job, a Service, a ConfigMap and a claim; got %d objects:\n%s", len(objs), out)
	}
	raw, _ := scenarios.Example("surge")
	if cm.Data["scenario.yaml"] != string(raw) {
		t.Errorf("the ConfigMap does not hold the scenario byte for byte")
	}
	if *job.Spec.Completions != 3 || *job.Spec.Parallelism != 3 || *job.Spec.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("job spec %+v", job.Spec)
	}
	pod := job.Spec.Template.Spec
	if svc.Spec.ClusterIP != corev1.ClusterIPNone || pod.Subdomain != svc.Name {
		t.Errorf("subdomain %q, service %q (clusterIP %q)", pod.Subdomain, svc.Name, svc.Spec.ClusterIP)
	}
	c := pod.Containers[0]
	args := strings.Join(c.Args, " ")
	for _, want := range []string{"run /scenario/scenario.yaml", "--shards 3", "--barrier surge-1-0.surge-1:7070",
		"--out /runs/surge-1/shard-$(JOB_COMPLETION_INDEX)", "--metrics-addr :9090",
		"--target http://login.default.svc:8080 --allow-remote --dsn postgres://admin@db:5432/app"} {
		if !strings.Contains(args, want) {
			t.Errorf("args lack %q: %s", want, args)
		}
	}
	if c.Image != "registry.example/stampede:v1" {
		t.Errorf("image %q", c.Image)
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "STAMPEDE_DSN" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == "pg-admin"
	}) {
		t.Errorf("no STAMPEDE_DSN from secret pg-admin: %+v", c.Env)
	}
	merge, err := os.ReadFile(mergeFile)
	if err != nil {
		t.Fatal(err)
	}
	mobjs, err := k8s.Decode(merge)
	if err != nil || len(mobjs) != 1 || mobjs[0].(*batchv1.Job).Name != "surge-1-merge" {
		t.Errorf("merge job file: %v, %d objects\n%s", err, len(mobjs), merge)
	}
	if !strings.Contains(stderr, "kubectl wait --for=condition=complete") {
		t.Errorf("stderr does not say what to do next: %q", stderr)
	}
}

func TestK8sDefaultNameAndOutFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "stampede.yaml")
	_, stderr, code := runCLI(t, "k8s", "smoke", "--shards", "2", "--image", "i", "--out", file, "--runs-volume", "emptyDir",
		"--", "--target", "http://svc:8080")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := k8s.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if j, ok := o.(*batchv1.Job); ok && !strings.HasPrefix(j.Name, "smoke-") {
			t.Errorf("default name %q, want smoke-<suffix>", j.Name)
		}
		if _, ok := o.(*corev1.PersistentVolumeClaim); ok {
			t.Errorf("a claim with --runs-volume emptyDir")
		}
	}
	if !strings.Contains(stderr, "--allow-remote") {
		t.Errorf("no note about --allow-remote: %q", stderr)
	}
}

func TestK8sUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("stages:\n  - constant: {rate: 5, for: 10}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	creds := filepath.Join(dir, "creds.yaml")
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte("u,p\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(creds, []byte("target: http://svc:8080\ncredentials: {file: users.csv}\nstages:\n  - constant: {rate: 5, for: 10s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"--image", "i", "--shards", "2"}
	for _, tc := range []struct {
		name string
		args []string
		want string // in the error
	}{
		{"bad scenario", append([]string{"k8s", bad}, base...), bad + ":2:30:"},
		{"zero shards", []string{"k8s", "smoke", "--image", "i", "--shards", "0", "--", "--target", "http://s"}, "--shards"},
		{"no shards", []string{"k8s", "smoke", "--image", "i", "--", "--target", "http://s"}, "--shards"},
		{"no image", []string{"k8s", "smoke", "--shards", "2", "--", "--target", "http://s"}, "--image"},
		{"no target", append([]string{"k8s", "smoke"}, base...), "no target"},
		{"password in a DSN", append(append([]string{"k8s", "smoke"}, base...), "--", "--target", "http://s", "--dsn", "postgres://admin:hunter2@db/app"), "--dsn-secret"},
		{"password key=value", append(append([]string{"k8s", "smoke"}, base...), "--", "--target", "http://s", "--dsn=host=db password=hunter2"), "--dsn-secret"},
		{"reserved flag", append(append([]string{"k8s", "smoke"}, base...), "--", "--target", "http://s", "--out=/x"), "--out"},
		{"bad name", append(append([]string{"k8s", "smoke", "--name", "Bad_Name"}, base...), "--", "--target", "http://s"), "Bad_Name"},
		{"merge job on emptyDir", append(append([]string{"k8s", "smoke", "--runs-volume", "emptyDir", "--merge-job", filepath.Join(dir, "m.yaml")}, base...), "--", "--target", "http://s"), "emptyDir"},
		{"credentials without a secret", append([]string{"k8s", creds}, base...), "--credentials-secret"},
		{"two scenarios", append([]string{"k8s", "smoke", "surge"}, base...), "exactly one SCENARIO"},
	} {
		out, stderr, code := runCLIErr(t, tc.args...)
		if code != exitUsage {
			t.Errorf("%s: exit %d, want %d", tc.name, code, exitUsage)
		}
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: error %q lacks %q", tc.name, stderr, tc.want)
		}
		if strings.Contains(out+stderr, "hunter2") {
			t.Errorf("%s: the password is printed", tc.name)
		}
	}
}

func TestK8sCredentialsSecret(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "creds.yaml")
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "users.csv"), []byte("u,p\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(creds, []byte("target: http://svc:8080\ncredentials: {file: data/users.csv}\nstages:\n  - constant: {rate: 5, for: 10s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runCLI(t, "k8s", creds, "--image", "i", "--shards", "2", "--credentials-secret", "users")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "path: data/users.csv") || strings.Contains(out, "u,p") {
		t.Errorf("credentials not mounted from the secret at data/users.csv, or their content printed:\n%s", out)
	}
}

// runCLIErr is runCLI with the returned error's text appended to stderr,
// as main would print it.
func runCLIErr(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	err := runMain(context.Background(), e, args)
	if err != nil {
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), exitCode(err)
}
