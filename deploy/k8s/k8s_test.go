package k8s

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
)

func testOptions() Options {
	return Options{
		Name: "surge-ab12c", Image: "registry.example/stampede:v1", Shards: 3,
		Scenario:    []byte("# a comment: kept\nstages:\n  - constant: {rate: 20, for: 10s}\n\ttrailing tab \n"),
		Args:        []string{"--target", "http://login.default.svc:8080", "--allow-remote"},
		BarrierPort: 7070, MetricsPort: 9090,
		Runs: PVC{Size: resource.MustParse("2Gi"), StorageClass: "nfs"},
		CPU:  resource.MustParse("500m"), Memory: resource.MustParse("256Mi"),
	}
}

func build(t *testing.T, o Options) (cm *corev1.ConfigMap, pvc *corev1.PersistentVolumeClaim, svc *corev1.Service, job *batchv1.Job, yaml string) {
	t.Helper()
	objs, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, objs...); err != nil {
		t.Fatal(err)
	}
	for _, obj := range decode(t, buf.Bytes()) {
		switch v := obj.(type) {
		case *corev1.ConfigMap:
			cm = v
		case *corev1.PersistentVolumeClaim:
			pvc = v
		case *corev1.Service:
			svc = v
		case *batchv1.Job:
			job = v
		default:
			t.Errorf("unexpected object %T", obj)
		}
	}
	if cm == nil || svc == nil || job == nil {
		t.Fatalf("missing objects: configmap %v, service %v, job %v\n%s", cm != nil, svc != nil, job != nil, buf.String())
	}
	return cm, pvc, svc, job, buf.String()
}

func TestK8sShardJob(t *testing.T) {
	o := testOptions()
	cm, pvc, svc, job, out := build(t, o)

	if got := cm.Data[ScenarioFile]; got != string(o.Scenario) {
		t.Errorf("scenario in the ConfigMap = %q, want it byte for byte %q", got, o.Scenario)
	}
	if svc.Spec.ClusterIP != corev1.ClusterIPNone || !svc.Spec.PublishNotReadyAddresses {
		t.Errorf("service: clusterIP %q, publishNotReadyAddresses %v; want a headless service publishing unready pods", svc.Spec.ClusterIP, svc.Spec.PublishNotReadyAddresses)
	}
	s := job.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion || *s.Completions != 3 || *s.Parallelism != 3 || *s.BackoffLimit != 0 {
		t.Errorf("job spec: mode %v completions %v parallelism %v backoffLimit %v", s.CompletionMode, *s.Completions, *s.Parallelism, *s.BackoffLimit)
	}
	pod := s.Template.Spec
	if pod.Subdomain != svc.Name || pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("pod: subdomain %q (service %q), restartPolicy %q", pod.Subdomain, svc.Name, pod.RestartPolicy)
	}
	for k, v := range svc.Spec.Selector {
		if s.Template.Labels[k] != v {
			t.Errorf("service selects %s=%s, the pods have %q", k, v, s.Template.Labels[k])
		}
	}
	if s.Template.Labels["app.kubernetes.io/name"] != "stampede" || s.Template.Labels["app.kubernetes.io/instance"] != o.Name {
		t.Errorf("pod labels %v", s.Template.Labels)
	}
	if a := s.Template.Annotations; a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != "9090" {
		t.Errorf("pod annotations %v", a)
	}
	c := pod.Containers[0]
	if c.Image != o.Image {
		t.Errorf("image %q", c.Image)
	}
	want := []string{"run", "/scenario/scenario.yaml", "--shards", "3",
		"--barrier", "surge-ab12c-0.surge-ab12c:7070",
		"--out", "/runs/surge-ab12c/shard-$(JOB_COMPLETION_INDEX)",
		"--metrics-addr", ":9090",
		"--target", "http://login.default.svc:8080", "--allow-remote"}
	if !slices.Equal(c.Args, want) {
		t.Errorf("args\n got %q\nwant %q", c.Args, want)
	}
	if !strings.Contains(c.Command[len(c.Command)-2], `stampede "$@"`) {
		t.Errorf("command does not run stampede with the args: %q", c.Command)
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["metrics"] != 9090 || ports["barrier"] != 7070 {
		t.Errorf("container ports %v", ports)
	}
	var index *corev1.EnvVar
	for i := range c.Env {
		if c.Env[i].Name == IndexEnv {
			index = &c.Env[i]
		}
		if c.Env[i].Name == DSNEnv {
			t.Errorf("%s set without --dsn-secret", DSNEnv)
		}
	}
	if index == nil || index.ValueFrom == nil || index.ValueFrom.FieldRef == nil {
		t.Errorf("no %s from the pod's index annotation: %v", IndexEnv, c.Env)
	}
	if c.Resources.Limits.Cpu().String() != "500m" || c.Resources.Requests.Memory().String() != "256Mi" {
		t.Errorf("resources %v", c.Resources)
	}
	if pvc == nil || pvc.Spec.AccessModes[0] != corev1.ReadWriteMany || *pvc.Spec.StorageClassName != "nfs" ||
		pvc.Spec.Resources.Requests.Storage().String() != "2Gi" {
		t.Errorf("claim %+v", pvc)
	}
	if !mounts(pod, "runs", "/runs") || !mounts(pod, "scenario", "/scenario") {
		t.Errorf("mounts %v", c.VolumeMounts)
	}
	for _, noise := range []string{"status:", "creationTimestamp"} {
		if strings.Contains(out, noise) {
			t.Errorf("output holds %q", noise)
		}
	}
}

// mounts tells whether the container mounts the pod volume vol at path.
func mounts(pod corev1.PodSpec, vol, path string) bool {
	for _, m := range pod.Containers[0].VolumeMounts {
		if m.Name == vol && m.MountPath == path {
			return slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == vol })
		}
	}
	return false
}

func TestK8sSecrets(t *testing.T) {
	o := testOptions()
	o.DSNSecret, o.CredentialsSecret, o.CredentialsPath = "pg-admin", "login-users", "data/users.csv"
	_, _, _, job, _ := build(t, o)
	c := job.Spec.Template.Spec.Containers[0]
	var dsn *corev1.EnvVar
	for i := range c.Env {
		if c.Env[i].Name == DSNEnv {
			dsn = &c.Env[i]
		}
	}
	if dsn == nil || dsn.Value != "" || dsn.ValueFrom.SecretKeyRef == nil ||
		dsn.ValueFrom.SecretKeyRef.Name != "pg-admin" || dsn.ValueFrom.SecretKeyRef.Key != "dsn" {
		t.Errorf("%s = %+v, want it from secret pg-admin key dsn", DSNEnv, dsn)
	}
	var found bool
	for _, v := range job.Spec.Template.Spec.Volumes {
		if v.Name != scenarioVolume {
			continue
		}
		for _, src := range v.Projected.Sources {
			if src.Secret != nil && src.Secret.Name == "login-users" && src.Secret.Items[0].Key == CredentialsSecretKey && src.Secret.Items[0].Path == "data/users.csv" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("credentials secret not projected beside the scenario: %+v", job.Spec.Template.Spec.Volumes)
	}
}

func TestK8sEmptyDir(t *testing.T) {
	o := testOptions()
	o.Runs = EmptyDir{Linger: 5 * time.Minute}
	_, pvc, _, job, _ := build(t, o)
	if pvc != nil {
		t.Errorf("a claim with emptyDir runs")
	}
	pod := job.Spec.Template.Spec
	c := pod.Containers[0]
	if !strings.Contains(c.Command[2], "sleep 300") || c.ReadinessProbe == nil {
		t.Errorf("emptyDir pods must linger and turn ready when done: command %q, probe %v", c.Command, c.ReadinessProbe)
	}
	for _, v := range pod.Volumes {
		if v.Name == runsVolume && v.EmptyDir == nil {
			t.Errorf("runs volume %+v", v)
		}
	}
	if _, err := BuildMerge(o); err == nil {
		t.Errorf("a merge Job over emptyDir volumes: want an error")
	}
}

func TestK8sMergeJob(t *testing.T) {
	job, err := BuildMerge(testOptions())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, job); err != nil {
		t.Fatal(err)
	}
	got := decode(t, buf.Bytes())[0].(*batchv1.Job)
	script := strings.Join(got.Spec.Template.Spec.Containers[0].Command, " ")
	want := "stampede merge /runs/surge-ab12c/shard-0 /runs/surge-ab12c/shard-1 /runs/surge-ab12c/shard-2 --out /runs/surge-ab12c/merged --allow-partial && stampede report /runs/surge-ab12c/merged"
	if !strings.Contains(script, want) || got.Name != "surge-ab12c-merge" {
		t.Errorf("merge job %q runs %q, want %q", got.Name, script, want)
	}
	if !mounts(got.Spec.Template.Spec, "runs", "/runs") || got.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "surge-ab12c-runs" {
		t.Errorf("merge job does not mount the runs claim: %+v", got.Spec.Template.Spec.Volumes)
	}
	if got.Spec.Template.Labels["app.kubernetes.io/component"] == "shard" {
		t.Errorf("the merge pod would be selected by the barrier service")
	}
}

func TestK8sCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Options)
	}{
		{"zero shards", func(o *Options) { o.Shards = 0 }},
		{"no image", func(o *Options) { o.Image = "" }},
		{"bad name", func(o *Options) { o.Name = "Surge_1" }},
		{"name starting with a digit", func(o *Options) { o.Name = "1surge" }},
		{"long name", func(o *Options) { o.Name = strings.Repeat("a", MaxNameLen+1) }},
		{"same ports", func(o *Options) { o.MetricsPort = o.BarrierPort }},
		{"no runs volume", func(o *Options) { o.Runs = nil }},
		{"not UTF-8", func(o *Options) { o.Scenario = []byte{0xff, 0xfe} }},
		{"credentials outside", func(o *Options) { o.CredentialsSecret, o.CredentialsPath = "s", "../users.csv" }},
		{"credentials without path", func(o *Options) { o.CredentialsSecret = "s" }},
	} {
		o := testOptions()
		tc.edit(&o)
		if _, err := Build(o); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestK8sDefaultName(t *testing.T) {
	for in, want := range map[string]string{
		"surge":                 "surge-ab12c",
		"Login Surge (EU)":      "login-surge-eu-ab12c",
		"2fa_storm":             "stampede-2fa-storm-ab12c",
		"":                      "stampede-ab12c",
		strings.Repeat("x", 80): strings.Repeat("x", MaxNameLen-6) + "-ab12c",
		"--ci--gate--":          "ci-gate-ab12c",
	} {
		got := DefaultName(in, "ab12c")
		if got != want {
			t.Errorf("DefaultName(%q) = %q, want %q", in, got, want)
		}
		o := testOptions()
		o.Name = got
		if err := o.check(); err != nil {
			t.Errorf("DefaultName(%q) = %q: %v", in, got, err)
		}
	}
}

func decode(t *testing.T, stream []byte) []runtime.Object {
	t.Helper()
	objs, err := Decode(stream)
	if err != nil {
		t.Fatalf("%v\n%s", err, stream)
	}
	return objs
}

func TestK8sDecodeStrict(t *testing.T) {
	if _, err := Decode([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {clusterIp: None}\n")); err == nil {
		t.Errorf("a misspelt field decoded without error")
	}
}
