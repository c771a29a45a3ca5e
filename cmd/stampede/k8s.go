package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/stampede-load/stampede/deploy/k8s"
	"github.com/stampede-load/stampede/internal/secret"
	"github.com/stampede-load/stampede/scenarios"
)

// cmdK8s prints the manifests of a sharded run: stampede k8s SCENARIO
// --shards N --image IMAGE [-- RUN FLAGS].
func cmdK8s(_ context.Context, e *env, args []string) error {
	fs := newFlagSet("k8s", "SCENARIO --shards N --image IMAGE [flags] [-- stampede run flags]", e)
	shards := fs.Int("shards", 0, "number of shards (pods), each offering 1/N of every stage's rate")
	image := fs.String("image", "", "container image with stampede (see the Dockerfile; make image)")
	name := fs.String("name", "", fmt.Sprintf("name of the Job, the Service and the run (a DNS label of at most %d characters; default: the scenario's name and a random suffix)", k8s.MaxNameLen))
	out := fs.String("out", "", "write the manifests to this file instead of stdout")
	mergeJob := fs.String("merge-job", "", "also write the Job that merges the shards and reports to this file, to apply once the shards are complete (needs --runs-volume pvc)")
	runsVol := fs.String("runs-volume", "pvc", "where run directories go: pvc (a ReadWriteMany claim shared by all pods) or emptyDir (each pod's own; copy with kubectl cp while the pod lingers)")
	pvcSize := fs.String("pvc-size", "1Gi", "size of the runs claim")
	storageClass := fs.String("storage-class", "", "storage class of the runs claim; it must offer ReadWriteMany (default: the cluster's default class)")
	linger := fs.Duration("linger", 10*time.Minute, "with --runs-volume emptyDir: how long a pod stays up after its run for kubectl cp")
	dsnSecret := fs.String("dsn-secret", "", "Secret whose key \"dsn\" holds the admin DSN, passed as $STAMPEDE_DSN (a DSN password never goes into a manifest)")
	credSecret := fs.String("credentials-secret", "", "Secret whose key \"credentials.csv\" is mounted where the scenario's credentials.file expects it")
	cpu := fs.String("cpu", "1", "CPU request and limit of each shard (empty: unset)")
	memory := fs.String("memory", "512Mi", "memory request and limit of each shard (empty: unset)")
	barrierPort := fs.Int32("barrier-port", 7070, "port shard 0 listens on for the start barrier")
	metricsPort := fs.Int32("metrics-port", 9090, "port every shard serves Prometheus /metrics on")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	positional, forwarded := fs.Args(), []string(nil)
	if dash := fs.ArgsLenAtDash(); dash >= 0 {
		positional, forwarded = fs.Args()[:dash], fs.Args()[dash:]
	}
	if len(positional) != 1 {
		return usageErr("k8s needs exactly one SCENARIO (a file or an example: %s); run flags go after --", strings.Join(scenarios.Examples(), ", "))
	}
	if *shards < 1 {
		return usageErr("k8s: --shards must be at least 1, got %d", *shards)
	}
	if *image == "" {
		return usageErr("k8s: --image is needed (build one with make image and push it where the cluster can pull it)")
	}
	if err := checkForwarded(forwarded); err != nil {
		return err
	}
	sc, _, err := loadChecked(positional[0])
	if err != nil {
		return usageErr("%v", err)
	}
	if sc.Target == "" && !hasFlag(forwarded, "--target") {
		return usageErr("k8s: %s has no target and none is given after --: every pod would test its own bundled fixture; add -- --target URL", sc.Path)
	}
	credPath, err := credentialsPath(sc)
	if err != nil {
		return err
	}
	if (credPath == "") != (*credSecret == "") {
		if credPath == "" {
			return usageErr("k8s: --credentials-secret given, but %s names no credentials.file", sc.Path)
		}
		return usageErr("k8s: %s reads credentials from %s; put it in a Secret (kubectl create secret generic NAME --from-file=%s=%s) and pass --credentials-secret NAME",
			sc.Path, credPath, k8s.CredentialsSecretKey, sc.Credentials.File)
	}

	o := k8s.Options{
		Name: *name, Image: *image, Shards: *shards, Scenario: sc.Raw, Args: forwarded,
		BarrierPort: *barrierPort, MetricsPort: *metricsPort,
		DSNSecret: *dsnSecret, CredentialsSecret: *credSecret, CredentialsPath: credPath,
	}
	if o.Name == "" {
		o.Name = k8s.DefaultName(sc.Name, secret.Hex(3)[:5])
	}
	if o.CPU, err = quantity("--cpu", *cpu); err != nil {
		return err
	}
	if o.Memory, err = quantity("--memory", *memory); err != nil {
		return err
	}
	switch *runsVol {
	case "pvc":
		size, err := quantity("--pvc-size", *pvcSize)
		if err != nil {
			return err
		}
		o.Runs = k8s.PVC{Size: size, StorageClass: *storageClass}
	case "emptyDir":
		if *mergeJob != "" {
			return usageErr("k8s: --merge-job reads every shard's directory, which --runs-volume emptyDir keeps in each pod; use pvc, or kubectl cp and stampede merge")
		}
		if *linger < 0 {
			return usageErr("k8s: --linger must not be negative, got %s", *linger)
		}
		o.Runs = k8s.EmptyDir{Linger: *linger}
	default:
		return usageErr("k8s: --runs-volume must be pvc or emptyDir, got %q", *runsVol)
	}

	objs, err := k8s.Build(o)
	if err != nil {
		return usageErr("%v", err)
	}
	var buf bytes.Buffer
	if err := k8s.Write(&buf, objs...); err != nil {
		return infraErr(err)
	}
	if *mergeJob != "" {
		job, err := k8s.BuildMerge(o)
		if err != nil {
			return usageErr("%v", err)
		}
		var mb bytes.Buffer
		if err := k8s.Write(&mb, job); err != nil {
			return infraErr(err)
		}
		if err := os.WriteFile(*mergeJob, mb.Bytes(), 0o644); err != nil {
			return infraErr(fmt.Errorf("k8s: write the merge Job: %w", err))
		}
	}
	if *out == "" {
		_, err = e.stdout.Write(buf.Bytes())
	} else {
		err = os.WriteFile(*out, buf.Bytes(), 0o644)
	}
	if err != nil {
		return infraErr(fmt.Errorf("k8s: write manifests: %w", err))
	}
	fmt.Fprintf(e.stderr, "stampede: %d shards of %s as Job %s; then: kubectl wait --for=condition=complete --timeout=1h job/%s\n",
		o.Shards, sc.Path, o.Name, o.Name)
	if !sc.AllowRemote && !hasFlag(forwarded, "--allow-remote") {
		fmt.Fprintln(e.stderr, "stampede: note: a target reached from a pod is not a loopback address; stampede run refuses it without -- --allow-remote (or allow_remote: true)")
	}
	return nil
}

// checkForwarded refuses run flags the manifests set themselves, and any
// argument carrying a password, which would be readable by anyone who can
// read the Job.
func checkForwarded(args []string) error {
	reserved := []string{"--shards", "--shard", "--barrier", "--out", "--metrics-addr"}
	for _, a := range args {
		for _, r := range reserved {
			if a == r || strings.HasPrefix(a, r+"=") {
				return usageErr("k8s: %s is set by the manifests; leave it out of the run flags after --", r)
			}
		}
		if secret.Text(a) != a {
			return usageErr("k8s: a run flag after -- holds a password (%s); put the DSN in a Secret under key %q and pass --dsn-secret NAME",
				secret.Text(a), k8s.DSNSecretKey)
		}
	}
	return nil
}

// hasFlag tells whether args set the flag name, alone or as name=value.
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// credentialsPath is the scenario's credentials.file as written (relative
// to the scenario), to mount from a Secret beside the scenario in the pods;
// empty when the scenario names none.
func credentialsPath(sc *scenarios.Scenario) (string, error) {
	if sc.Credentials.File == "" {
		return "", nil
	}
	var raw struct {
		Credentials struct {
			File string `yaml:"file"`
		} `yaml:"credentials"`
	}
	if err := yaml.Unmarshal(sc.Raw, &raw); err != nil {
		return "", usageErr("k8s: %s: read credentials.file: %v", sc.Path, err)
	}
	p := filepath.ToSlash(raw.Credentials.File)
	if filepath.IsAbs(raw.Credentials.File) || p != filepath.ToSlash(filepath.Clean(p)) || strings.HasPrefix(p, "../") {
		return "", usageErr("k8s: %s: credentials.file %q must be a plain path beside or below the scenario, to be mounted there in the pods", sc.Path, raw.Credentials.File)
	}
	return p, nil
}

// quantity parses a Kubernetes quantity flag; empty is zero (unset).
func quantity(flag, s string) (resource.Quantity, error) {
	if s == "" {
		return resource.Quantity{}, nil
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return q, usageErr("k8s: %s %q: %v", flag, s, err)
	}
	return q, nil
}
