package k8s

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// RunsVolume is where the shards write their run directories (mounted at
// RunsPath): a claim every pod shares, or a pod's own scratch space that the
// user copies out before the pod ends.
type RunsVolume interface {
	// volume is the pod volume for the run named name.
	volume(name string) corev1.Volume
	// objects are what the volume needs besides the pods (the claim).
	objects(name string, labels map[string]string) []runtime.Object
	// after is the shell run after a shard's stampede has exited, before the
	// container ends with the exit status it chose; empty: end at once.
	after() string
	// readiness says when a pod's results can be copied; nil: no probe.
	readiness() *corev1.Probe
	// shared tells whether another pod (the merge Job) can read the shards.
	shared() bool
}

// PVC is a ReadWriteMany PersistentVolumeClaim named NAME-runs, shared by
// every shard and by the merge Job.
type PVC struct {
	Size resource.Quantity
	// StorageClass names the class; empty: the cluster's default class.
	StorageClass string
}

func (p PVC) String() string {
	if p.StorageClass == "" {
		return fmt.Sprintf("PVC{%s ReadWriteMany}", p.Size.String())
	}
	return fmt.Sprintf("PVC{%s ReadWriteMany, class %s}", p.Size.String(), p.StorageClass)
}

func claimName(name string) string { return name + "-runs" }

func (p PVC) volume(name string) corev1.Volume {
	return corev1.Volume{Name: runsVolume, VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claimName(name)},
	}}
}

func (p PVC) objects(name string, labels map[string]string) []runtime.Object {
	pvc := &corev1.PersistentVolumeClaim{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: metav1.ObjectMeta{Name: claimName(name), Labels: labels},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: p.Size},
			},
		},
	}
	if p.StorageClass != "" {
		pvc.Spec.StorageClassName = &p.StorageClass
	}
	return []runtime.Object{pvc}
}

func (PVC) after() string            { return "" }
func (PVC) readiness() *corev1.Probe { return nil }
func (PVC) shared() bool             { return true }

// EmptyDir keeps each shard's run directory in its own pod, which stays
// up for Linger after the run so that `kubectl cp` (tar over exec, which
// needs a running container) can copy it out. The pod turns Ready when its
// run has finished, so `kubectl wait --for=condition=Ready` tells when to copy.
type EmptyDir struct {
	Linger time.Duration
}

func (e EmptyDir) String() string { return fmt.Sprintf("EmptyDir{linger %s}", e.Linger) }

// doneFile marks a finished run in the pod's own runs volume; the
// readiness probe looks for it.
const doneFile = RunsPath + "/.done"

func (EmptyDir) volume(string) corev1.Volume {
	return corev1.Volume{Name: runsVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
}

func (EmptyDir) objects(string, map[string]string) []runtime.Object { return nil }

func (e EmptyDir) after() string {
	return fmt.Sprintf(`touch %s; echo "stampede: run finished; copy it out within %s"; sleep %d`,
		doneFile, e.Linger, int64(e.Linger.Seconds()))
}

func (EmptyDir) readiness() *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"test", "-e", doneFile}}},
		PeriodSeconds: 5,
	}
}

func (EmptyDir) shared() bool { return false }
