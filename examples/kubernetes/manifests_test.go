package kubernetes

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/sqsdispatch/go-sqsdispatch/examples/worker/workerenv"
	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// manifests is every object of manifests/, decoded strictly.
type manifests struct {
	deployment     *appsv1.Deployment
	serviceAccount *corev1.ServiceAccount
	scaledObject   *kedav1alpha1.ScaledObject
	triggerAuth    *kedav1alpha1.TriggerAuthentication
}

// load decodes every manifest into its API type, refusing unknown and
// duplicate fields, unknown kinds and a kind given twice.
func load(t *testing.T) manifests {
	t.Helper()
	files, err := filepath.Glob("manifests/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests found (%v)", err)
	}
	var m manifests
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(raw, &tm); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var obj any
		switch gvk := tm.APIVersion + " " + tm.Kind; gvk {
		case "apps/v1 Deployment":
			obj = set(t, f, &m.deployment)
		case "v1 ServiceAccount":
			obj = set(t, f, &m.serviceAccount)
		case "keda.sh/v1alpha1 ScaledObject":
			obj = set(t, f, &m.scaledObject)
		case "keda.sh/v1alpha1 TriggerAuthentication":
			obj = set(t, f, &m.triggerAuth)
		default:
			t.Fatalf("%s: unexpected kind %q", f, gvk)
		}
		if err := yaml.UnmarshalStrict(raw, obj); err != nil {
			t.Fatalf("%s does not decode strictly into its API type: %v", f, err)
		}
	}
	if m.deployment == nil || m.serviceAccount == nil || m.scaledObject == nil || m.triggerAuth == nil {
		t.Fatalf("missing a manifest: deployment %t, service account %t, scaled object %t, trigger authentication %t",
			m.deployment != nil, m.serviceAccount != nil, m.scaledObject != nil, m.triggerAuth != nil)
	}
	return m
}

// set makes *p a new object, failing if a manifest already made one.
func set[T any](t *testing.T, file string, p **T) *T {
	t.Helper()
	if *p != nil {
		t.Fatalf("%s: a second %T", file, *p)
	}
	*p = new(T)
	return *p
}

// TestManifestsDecodeStrictly: every manifest is a valid object of its
// API type, and the decoding is strict enough to catch a misspelt field.
func TestManifestsDecodeStrictly(t *testing.T) {
	t.Parallel()
	m := load(t)
	for _, ns := range []string{m.serviceAccount.Namespace, m.scaledObject.Namespace, m.triggerAuth.Namespace} {
		if ns != m.deployment.Namespace {
			t.Errorf("namespace %q differs from the Deployment's %q", ns, m.deployment.Namespace)
		}
	}
	raw, err := os.ReadFile("manifests/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	misspelt := strings.Replace(string(raw), "terminationGracePeriodSeconds:", "terminationGracePeriod:", 1)
	if misspelt == string(raw) {
		t.Fatal("the Deployment sets no terminationGracePeriodSeconds")
	}
	if err := yaml.UnmarshalStrict([]byte(misspelt), &appsv1.Deployment{}); err == nil {
		t.Error("a misspelt field decodes without an error: the decoding is not strict")
	}
}

// worker returns the worker's container.
func worker(t *testing.T, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == "worker" {
			return c
		}
	}
	t.Fatal("the Deployment has no container named worker")
	return corev1.Container{}
}

// env returns the container's environment, failing on a value the test
// cannot see (from a ConfigMap or a Secret).
func env(t *testing.T, c corev1.Container) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			t.Fatalf("%s comes from elsewhere (valueFrom): give the worker's settings as plain values", e.Name)
		}
		vars[e.Name] = e.Value
	}
	return vars
}

// workerConfig is the configuration the worker (examples/worker) builds
// from the Deployment's environment, which must set the settings the stop
// budget depends on.
func workerConfig(vars map[string]string) (sqsdispatch.Config, error) {
	for _, env := range []string{workerenv.EnvShutdownGrace, workerenv.EnvCleanupTimeout} {
		if _, ok := vars[env]; !ok {
			return sqsdispatch.Config{}, fmt.Errorf("the Deployment does not set %s: the stop budget depends on it", env)
		}
	}
	return workerenv.Apply(sqsdispatch.Config{}, func(k string) string { return vars[k] })
}

// coversStopBudget says whether a pod's grace period covers budget after
// its preStop hooks (which Kubernetes counts in the grace period).
func coversStopBudget(spec corev1.PodSpec, budget time.Duration) error {
	grace := 30 * time.Second // Kubernetes' default
	if spec.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
	}
	var preStop time.Duration
	for _, c := range spec.Containers {
		if c.Lifecycle == nil || c.Lifecycle.PreStop == nil {
			continue
		}
		h := c.Lifecycle.PreStop
		if h.Sleep == nil || h.Exec != nil || h.HTTPGet != nil || h.TCPSocket != nil {
			return fmt.Errorf("container %s has a preStop hook whose length is not known: bound it with a sleep action", c.Name)
		}
		preStop = max(preStop, time.Duration(h.Sleep.Seconds)*time.Second)
	}
	if grace < budget+preStop {
		return fmt.Errorf("terminationGracePeriodSeconds (%s) is shorter than the stop budget (%s) plus the preStop hook (%s): "+
			"jobs would be SIGKILLed before their cleanup ends", grace, budget, preStop)
	}
	return nil
}

// TestGracePeriodCoversStopBudget: Kubernetes waits at least the stop
// budget of the worker's configuration between SIGTERM and SIGKILL.
func TestGracePeriodCoversStopBudget(t *testing.T) {
	t.Parallel()
	m := load(t)
	cfg, err := workerConfig(env(t, worker(t, m.deployment)))
	if err != nil {
		t.Fatal(err)
	}
	budget := cfg.StopBudget()
	if err := coversStopBudget(m.deployment.Spec.Template.Spec, budget); err != nil {
		t.Fatal(err)
	}
	t.Logf("stop budget %s; grace period %ds", budget, *m.deployment.Spec.Template.Spec.TerminationGracePeriodSeconds)
}

// TestCoversStopBudget: the check fails a grace period that is too short,
// once a preStop hook's time is counted, or that cannot be bounded.
func TestCoversStopBudget(t *testing.T) {
	t.Parallel()
	seconds := func(s int64) *int64 { return &s }
	sleep := func(s int64) *corev1.Lifecycle {
		return &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: s}}}
	}
	exec := &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"drain"}}}}
	tests := []struct {
		name    string
		spec    corev1.PodSpec
		wantErr string
	}{
		{name: "longer", spec: corev1.PodSpec{TerminationGracePeriodSeconds: seconds(120)}},
		{name: "equal", spec: corev1.PodSpec{TerminationGracePeriodSeconds: seconds(112)}},
		{name: "shorter", spec: corev1.PodSpec{TerminationGracePeriodSeconds: seconds(111)}, wantErr: "shorter than the stop budget"},
		{name: "Kubernetes' default", spec: corev1.PodSpec{}, wantErr: "(30s) is shorter"},
		{
			name: "a preStop sleep that fits",
			spec: corev1.PodSpec{TerminationGracePeriodSeconds: seconds(122), Containers: []corev1.Container{{Name: "worker", Lifecycle: sleep(10)}}},
		},
		{
			name:    "a preStop sleep that does not",
			spec:    corev1.PodSpec{TerminationGracePeriodSeconds: seconds(120), Containers: []corev1.Container{{Name: "worker", Lifecycle: sleep(10)}}},
			wantErr: "plus the preStop hook (10s)",
		},
		{
			name:    "a preStop command",
			spec:    corev1.PodSpec{TerminationGracePeriodSeconds: seconds(3600), Containers: []corev1.Container{{Name: "worker", Lifecycle: exec}}},
			wantErr: "not known",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := coversStopBudget(tt.spec, 112*time.Second)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("coversStopBudget = %v; want an error saying %q", err, tt.wantErr)
			}
		})
	}
	if _, err := workerConfig(map[string]string{"CLEANUP_TIMEOUT": "15s"}); err == nil || !strings.Contains(err.Error(), "SHUTDOWN_GRACE") {
		t.Errorf("a Deployment without SHUTDOWN_GRACE: %v; want an error naming it", err)
	}
}

// sqsTriggerKeys are the metadata keys KEDA's aws-sqs-queue scaler reads
// (awsSqsQueueMetadata in pkg/scalers/aws_sqs_queue_scaler.go of KEDA
// v2.21.0); the scaler's package is not imported, as it brings every
// scaler's cloud SDK.
var sqsTriggerKeys = []string{
	"queueURL", "queueURLFromEnv", "queueLength", "activationQueueLength", "awsRegion",
	"awsEndpoint", "scaleOnInFlight", "scaleOnDelayed", "identityOwner",
}

// TestScaledObjectScalesTheWorker: KEDA scales the worker's Deployment on
// the worker's queue, one pod per Concurrency messages, counting the
// messages in flight, with the worker's own identity.
func TestScaledObjectScalesTheWorker(t *testing.T) {
	t.Parallel()
	m := load(t)
	vars := env(t, worker(t, m.deployment))
	so := m.scaledObject.Spec
	if ref := so.ScaleTargetRef; ref == nil || ref.Name != m.deployment.Name ||
		!slices.Contains([]string{"", "Deployment"}, ref.Kind) || !slices.Contains([]string{"", "apps/v1"}, ref.APIVersion) {
		t.Errorf("scaleTargetRef %+v; want the Deployment %s", ref, m.deployment.Name)
	}
	if m.deployment.Spec.Replicas != nil {
		t.Error("the Deployment sets replicas: each apply would fight KEDA's autoscaler")
	}
	if len(so.Triggers) != 1 || so.Triggers[0].Type != "aws-sqs-queue" {
		t.Fatalf("triggers %+v; want one aws-sqs-queue trigger", so.Triggers)
	}
	tr := so.Triggers[0]
	for k := range tr.Metadata {
		if !slices.Contains(sqsTriggerKeys, k) {
			t.Errorf("the aws-sqs-queue trigger has metadata %q, which KEDA does not read (it reads %v)", k, sqsTriggerKeys)
		}
	}
	for _, c := range []struct{ key, want, why string }{
		{"queueURL", vars["QUEUE_URL"], "the worker's QUEUE_URL"},
		{"awsRegion", vars["AWS_REGION"], "the worker's AWS_REGION"},
		{"queueLength", vars["CONCURRENCY"], "the worker's CONCURRENCY: one pod per that many messages"},
		{"scaleOnInFlight", "true", "messages being worked on count, or busy pods are scaled away"},
	} {
		if got := tr.Metadata[c.key]; got != c.want || got == "" {
			t.Errorf("trigger metadata %s = %q; want %q (%s)", c.key, got, c.want, c.why)
		}
	}
	if tr.AuthenticationRef == nil || tr.AuthenticationRef.Name != m.triggerAuth.Name ||
		!slices.Contains([]string{"", "TriggerAuthentication"}, tr.AuthenticationRef.Kind) {
		t.Fatalf("authenticationRef %+v; want the TriggerAuthentication %s", tr.AuthenticationRef, m.triggerAuth.Name)
	}
	ta := m.triggerAuth.Spec
	if pi := ta.PodIdentity; pi == nil || pi.Provider != kedav1alpha1.PodIdentityProviderAws || !pi.IsWorkloadIdentityOwner() || pi.RoleArn != nil {
		t.Errorf("podIdentity %+v; want provider aws with identityOwner workload: the worker's own role", pi)
	}
	if len(ta.SecretTargetRef) > 0 || len(ta.Env) > 0 || ta.HashiCorpVault != nil {
		t.Error("the TriggerAuthentication takes credentials from elsewhere than the worker's identity")
	}
}

// TestCredentialsFromServiceAccount: the worker gets AWS credentials from
// its service account's IAM role (IRSA), never from keys.
func TestCredentialsFromServiceAccount(t *testing.T) {
	t.Parallel()
	m := load(t)
	arn := m.serviceAccount.Annotations[kedav1alpha1.PodIdentityAnnotationEKS]
	if !regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/\S+$`).MatchString(arn) {
		t.Errorf("service account annotation %s = %q; want an IAM role ARN", kedav1alpha1.PodIdentityAnnotationEKS, arn)
	}
	pod := m.deployment.Spec.Template.Spec
	if pod.ServiceAccountName != m.serviceAccount.Name {
		t.Errorf("the pods run as service account %q; want %q", pod.ServiceAccountName, m.serviceAccount.Name)
	}
	for _, c := range slices.Concat(pod.InitContainers, pod.Containers) {
		if len(c.EnvFrom) > 0 {
			t.Errorf("container %s takes its environment from elsewhere (envFrom)", c.Name)
		}
		vars := map[string]bool{}
		for _, e := range c.Env {
			vars[e.Name] = true
		}
		for _, key := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
			if vars[key] {
				t.Errorf("container %s is given %s: credentials come from the service account's role", c.Name, key)
			}
		}
	}
	for _, v := range pod.Volumes {
		if v.Secret != nil {
			t.Errorf("volume %s mounts a Secret", v.Name)
		}
	}
	if got := slices.Sorted(maps.Keys(env(t, worker(t, m.deployment)))); !slices.Contains(got, "QUEUE_URL") {
		t.Errorf("the worker's environment %v has no QUEUE_URL", got)
	}
}
