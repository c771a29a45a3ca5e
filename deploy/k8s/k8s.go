// Package k8s builds the Kubernetes objects of a sharded run: the scenario
// in a ConfigMap, a headless Service for the start barrier and the metrics,
// an Indexed Job of N shards, the volume their run directories go to, and
// the Job that merges them and reports. It builds objects only; nothing
// here talks to a cluster.
package k8s

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Paths inside the pods.
const (
	ScenarioDir  = "/scenario"
	ScenarioFile = "scenario.yaml"
	RunsPath     = "/runs"
)

// IndexEnv is the shard index of a pod in an Indexed Job; stampede run
// --shards N reads it, and $(IndexEnv) in args is expanded by the kubelet.
const IndexEnv = "JOB_COMPLETION_INDEX"

// indexAnnotation is where the Job controller writes a pod's index.
const indexAnnotation = "batch.kubernetes.io/job-completion-index"

// DSNEnv is the variable stampede reads the admin DSN from.
const DSNEnv = "STAMPEDE_DSN"

// DSNSecretKey is the key of the DSN in the Secret named by Options.DSNSecret.
const DSNSecretKey = "dsn"

// CredentialsSecretKey is the key of the credentials CSV in the Secret
// named by Options.CredentialsSecret.
const CredentialsSecretKey = "credentials.csv"

// MaxNameLen leaves room, within the 63 characters of a DNS label, for
// "-merge", "-scenario" and a pod's "-<index>" hostname.
const MaxNameLen = 52

// runUser is the non-root user of the image (see the Dockerfile); fsGroup
// makes the runs volume writable by it.
const runUser = 65532

const (
	runsVolume     = "runs"
	scenarioVolume = "scenario"
	tmpVolume      = "tmp"
)

// Options describe one sharded run.
type Options struct {
	// Name is the Job's name (a DNS-1035 label); the Service shares it, the
	// other objects are NAME-scenario, NAME-runs, NAME-merge, and the run
	// directories go under RunsPath/NAME.
	Name     string
	Image    string
	Shards   int
	Scenario []byte // the scenario file, carried byte for byte
	// Args are further flags for stampede run (--target, --allow-remote, …).
	Args        []string
	BarrierPort int32
	MetricsPort int32
	Runs        RunsVolume
	// DSNSecret names a Secret whose key "dsn" becomes $STAMPEDE_DSN.
	DSNSecret string
	// CredentialsSecret names a Secret whose key "credentials.csv" is
	// mounted at CredentialsPath (the scenario's credentials.file, relative
	// to the scenario file) next to the scenario; empty: none.
	CredentialsSecret, CredentialsPath string
	// CPU and Memory are both request and limit (zero: unset), so that every
	// shard gets the same guaranteed share and offers its load on time.
	CPU, Memory resource.Quantity
}

// Build returns the objects to apply for a sharded run, in the order to
// apply them: ConfigMap, the runs claim if any, Service, Job.
func Build(o Options) ([]runtime.Object, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	labels := o.labels("shard")
	objs := []runtime.Object{o.configMap()}
	objs = append(objs, o.Runs.objects(o.Name, o.labels(""))...)
	return append(objs, o.service(labels), o.shardJob(labels)), nil
}

// BuildMerge returns the Job that merges the shards' run directories into
// RunsPath/NAME/merged and reports on it; apply it once the shard Job is
// complete. It needs a volume the shards share.
func BuildMerge(o Options) (*batchv1.Job, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if !o.Runs.shared() {
		return nil, fmt.Errorf("k8s: the merge Job reads every shard's directory, which a %s cannot share; use a PVC", o.Runs)
	}
	dirs := make([]string, o.Shards)
	for i := range dirs {
		dirs[i] = shellQuote(o.shardDir(strconv.Itoa(i)))
	}
	merged := shellQuote(o.runDir() + "/merged")
	// Every shard named rather than a glob, so that merge names a missing one.
	// merge accepts a partial run (--allow-partial) so that the report still
	// runs on it: the report names the missing shard, marks the verdict
	// partial and exits 1, which fails the Job.
	script := fmt.Sprintf("stampede merge %s --out %s --allow-partial && stampede report %s", strings.Join(dirs, " "), merged, merged)
	labels := o.labels("merge")
	c := o.container()
	c.Command = []string{"/bin/sh", "-c", script}
	c.VolumeMounts = []corev1.VolumeMount{{Name: runsVolume, MountPath: RunsPath}, {Name: tmpVolume, MountPath: "/tmp"}}
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name + "-merge", Labels: labels},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr(int32(0)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       o.podSpec(c, []corev1.Volume{o.Runs.volume(o.Name), tmpDir()}),
			},
		},
	}, nil
}

func (o Options) check() error {
	var errs []error
	if msgs := validation.IsDNS1035Label(o.Name); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("name %q: %s", o.Name, strings.Join(msgs, "; ")))
	} else if len(o.Name) > MaxNameLen {
		errs = append(errs, fmt.Errorf("name %q: at most %d characters, to leave room for the pods' and other objects' suffixes", o.Name, MaxNameLen))
	}
	if o.Image == "" {
		errs = append(errs, errors.New("an image is needed"))
	}
	if o.Shards < 1 {
		errs = append(errs, fmt.Errorf("shards must be at least 1, got %d", o.Shards))
	}
	if !utf8.Valid(o.Scenario) {
		errs = append(errs, errors.New("the scenario is not UTF-8 text, which a ConfigMap's data must be"))
	}
	for _, p := range []int32{o.BarrierPort, o.MetricsPort} {
		if p < 1 || p > 65535 {
			errs = append(errs, fmt.Errorf("port %d out of range 1-65535", p))
		}
	}
	if o.BarrierPort == o.MetricsPort {
		errs = append(errs, fmt.Errorf("the barrier and metrics ports are both %d", o.BarrierPort))
	}
	if (o.CredentialsSecret == "") != (o.CredentialsPath == "") {
		errs = append(errs, errors.New("a credentials Secret needs the path the scenario expects it at, and the other way round"))
	} else if p := o.CredentialsPath; p != "" && (path.IsAbs(p) || p != path.Clean(p) || p == ScenarioFile || strings.HasPrefix(p, "../")) {
		errs = append(errs, fmt.Errorf("credentials path %q: it must be a clean path below the scenario's directory, other than %s", p, ScenarioFile))
	}
	if o.Runs == nil {
		errs = append(errs, errors.New("a runs volume is needed"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("k8s: %w", errors.Join(errs...))
	}
	return nil
}

func (o Options) labels(component string) map[string]string {
	l := map[string]string{"app.kubernetes.io/name": "stampede", "app.kubernetes.io/instance": o.Name}
	if component != "" {
		l["app.kubernetes.io/component"] = component
	}
	return l
}

func (o Options) runDir() string { return RunsPath + "/" + o.Name }

func (o Options) shardDir(index string) string { return o.runDir() + "/shard-" + index }

// BarrierAddr is shard 0's stable address: its hostname in the headless
// Service's subdomain.
func (o Options) BarrierAddr() string {
	return fmt.Sprintf("%s-0.%s:%d", o.Name, o.Name, o.BarrierPort)
}

// RunArgs are the arguments of stampede in each shard's container.
func (o Options) RunArgs() []string {
	args := []string{"run", ScenarioDir + "/" + ScenarioFile,
		"--shards", strconv.Itoa(o.Shards),
		"--barrier", o.BarrierAddr(),
		"--out", o.shardDir("$(" + IndexEnv + ")"),
		"--metrics-addr", fmt.Sprintf(":%d", o.MetricsPort),
	}
	return append(args, o.Args...)
}

func (o Options) configMap() *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name + "-scenario", Labels: o.labels("")},
		Data:       map[string]string{ScenarioFile: string(o.Scenario)},
	}
}

// service is headless: it gives shard 0 the DNS name the others dial, from
// the moment the pod has an address (ready or not), and lets Prometheus
// find every shard's metrics port.
func (o Options) service(selector map[string]string) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Labels: o.labels("")},
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			Selector:                 selector,
			PublishNotReadyAddresses: true,
			Ports: []corev1.ServicePort{
				{Name: "barrier", Port: o.BarrierPort, TargetPort: intstr.FromString("barrier")},
				{Name: "metrics", Port: o.MetricsPort, TargetPort: intstr.FromString("metrics")},
			},
		},
	}
}

// shardJob is the Indexed Job of the shards. Nothing is retried
// (backoffLimit 0): a shard run again would start after the barrier has
// released the others, so one failed shard fails the run, and the Job
// controller stops the rest rather than leave them waiting at the barrier.
func (o Options) shardJob(labels map[string]string) *batchv1.Job {
	n := int32(o.Shards)
	c := o.container()
	c.Command = []string{"/bin/sh", "-c", shardScript(o.Runs.after()), "stampede"}
	c.Args = o.RunArgs()
	c.Ports = []corev1.ContainerPort{
		{Name: "barrier", ContainerPort: o.BarrierPort, Protocol: corev1.ProtocolTCP},
		{Name: "metrics", ContainerPort: o.MetricsPort, Protocol: corev1.ProtocolTCP},
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: IndexEnv, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['" + indexAnnotation + "']"},
	}})
	if o.DSNSecret != "" {
		c.Env = append(c.Env, corev1.EnvVar{Name: DSNEnv, ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: o.DSNSecret}, Key: DSNSecretKey},
		}})
	}
	c.VolumeMounts = []corev1.VolumeMount{
		{Name: scenarioVolume, MountPath: ScenarioDir, ReadOnly: true},
		{Name: runsVolume, MountPath: RunsPath},
		{Name: tmpVolume, MountPath: "/tmp"},
	}
	c.ReadinessProbe = o.Runs.readiness()
	spec := o.podSpec(c, []corev1.Volume{o.scenarioVolume(), o.Runs.volume(o.Name), tmpDir()})
	spec.Subdomain = o.Name
	indexed := batchv1.IndexedCompletion
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Labels: labels},
		Spec: batchv1.JobSpec{
			CompletionMode: &indexed,
			Completions:    &n,
			Parallelism:    &n,
			BackoffLimit:   ptr(int32(0)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels: labels,
					Annotations: map[string]string{
						"prometheus.io/scrape": "true",
						"prometheus.io/port":   strconv.Itoa(int(o.MetricsPort)),
						"prometheus.io/path":   "/metrics",
					},
				},
				Spec: spec,
			},
		},
	}
}

// scenarioVolume holds the scenario file and, from a Secret, the
// credentials file where the scenario expects it: beside it.
func (o Options) scenarioVolume() corev1.Volume {
	sources := []corev1.VolumeProjection{{ConfigMap: &corev1.ConfigMapProjection{
		LocalObjectReference: corev1.LocalObjectReference{Name: o.Name + "-scenario"},
		Items:                []corev1.KeyToPath{{Key: ScenarioFile, Path: ScenarioFile}},
	}}}
	if o.CredentialsSecret != "" {
		sources = append(sources, corev1.VolumeProjection{Secret: &corev1.SecretProjection{
			LocalObjectReference: corev1.LocalObjectReference{Name: o.CredentialsSecret},
			Items:                []corev1.KeyToPath{{Key: CredentialsSecretKey, Path: o.CredentialsPath}},
		}})
	}
	return corev1.Volume{Name: scenarioVolume, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: sources}}}
}

// shardScript runs stampede with the container's args, passing the
// kubelet's SIGTERM on (sh as PID 1 would swallow it, and stampede needs it
// to stop gracefully and undo its faults). Exit 1, this shard's share
// failing a gate, counts as done: the merged report gives the verdict. Any
// other failure fails the shard, after the volume's own epilogue.
func shardScript(after string) string {
	s := `trap 'kill -TERM "$pid" 2>/dev/null' TERM INT
stampede "$@" & pid=$!
wait "$pid"; rc=$?
while kill -0 "$pid" 2>/dev/null; do wait "$pid"; rc=$?; done
if [ "$rc" -eq 1 ]; then echo "stampede: this shard failed a gate on its share; the merged report gives the verdict"; rc=0; fi
`
	if after != "" {
		s += after + "\n"
	}
	return s + `exit "$rc"`
}

func (o Options) container() corev1.Container {
	c := corev1.Container{
		Name:  "stampede",
		Image: o.Image,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr(false),
			ReadOnlyRootFilesystem:   ptr(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
	for name, q := range map[corev1.ResourceName]resource.Quantity{corev1.ResourceCPU: o.CPU, corev1.ResourceMemory: o.Memory} {
		if q.IsZero() {
			continue
		}
		if c.Resources.Requests == nil {
			c.Resources.Requests, c.Resources.Limits = corev1.ResourceList{}, corev1.ResourceList{}
		}
		c.Resources.Requests[name], c.Resources.Limits[name] = q, q
	}
	return c
}

func (o Options) podSpec(c corev1.Container, volumes []corev1.Volume) corev1.PodSpec {
	return corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr(true),
			RunAsUser:      ptr(int64(runUser)),
			RunAsGroup:     ptr(int64(runUser)),
			FSGroup:        ptr(int64(runUser)),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{c},
		Volumes:    volumes,
	}
}

func tmpDir() corev1.Volume {
	return corev1.Volume{Name: tmpVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
}

// shellQuote quotes s for sh unless it is plainly safe.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func ptr[T any](v T) *T { return &v }

// DefaultName makes a run name from a scenario's name and a suffix that
// tells runs apart: lower case, runs of other characters turned into one
// "-", "stampede-" in front when it would not start with a letter, cut to
// leave the suffix room within MaxNameLen.
func DefaultName(scenario, suffix string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(scenario) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	base := b.String()
	if base == "" || base[0] < 'a' || base[0] > 'z' {
		base = "stampede-" + base
	}
	if max := MaxNameLen - len(suffix) - 1; len(base) > max {
		base = base[:max]
	}
	return strings.TrimRight(base, "-") + "-" + suffix
}
