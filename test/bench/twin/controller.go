package main

// The Stack reconciler, shaped like a kubebuilder scaffold: cached reads, a finalizer added with a
// merge patch, status written through the status subresource (merge patch of the diff), requeue while
// a provider operation runs, GenerationChangedPredicate on the primary resource.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

const finalizer = "stackoperator.dev/finalizer"

type StackReconciler struct {
	client.Client
	HTTP          *http.Client
	Workers       int
	DefaultPoll   time.Duration
	DefaultResync time.Duration

	mu      sync.Mutex
	clients map[string]*providerEntry
}

type providerEntry struct {
	version string // provider + Secret resourceVersions the client was built from
	heat    *heatClient
	poll    time.Duration
	resync  time.Duration
}

func (r *StackReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.clients = map[string]*providerEntry{}
	return ctrl.NewControllerManagedBy(mgr).
		For(&Stack{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("stack").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Workers}).
		Complete(r)
}

func (r *StackReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var s Stack
	if err := r.Get(ctx, req.NamespacedName, &s); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !s.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, &s)
	}
	if !controllerutil.ContainsFinalizer(&s, finalizer) {
		orig := s.DeepCopy()
		controllerutil.AddFinalizer(&s, finalizer)
		if err := r.Patch(ctx, &s, client.MergeFrom(orig)); err != nil {
			return ctrl.Result{}, err
		}
	}
	p, err := r.provider(ctx, s.Namespace, s.Spec.ProviderRef.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	orig := s.DeepCopy()
	res, err := r.converge(ctx, &s, p)
	if err != nil {
		return ctrl.Result{}, err
	}
	return res, r.patchStatus(ctx, orig, &s)
}

// converge moves the Heat stack toward the spec and records what it saw in s.Status.
func (r *StackReconciler) converge(ctx context.Context, s *Stack, p *providerEntry) (ctrl.Result, error) {
	hs, err := p.heat.get(ctx, stackName(s), s.Status.StackID)
	if err != nil {
		return ctrl.Result{}, err
	}
	gen := s.Generation
	s.Status.ProviderType, s.Status.StackName = "heat", stackName(s)
	if hs == nil {
		id, err := p.heat.create(ctx, s)
		if err != nil {
			return ctrl.Result{}, err
		}
		s.Status.StackID, s.Status.StackStatus, s.Status.StackStatusReason = id, "CREATE_IN_PROGRESS", ""
		s.Status.LastAppliedGeneration = gen
		setReady(s, metav1.ConditionFalse, "Creating", "stack create in progress")
		return ctrl.Result{RequeueAfter: p.poll}, nil
	}
	s.Status.StackID, s.Status.StackStatus, s.Status.StackStatusReason = hs.ID, hs.Status, hs.StatusReason
	switch {
	case strings.HasSuffix(hs.Status, "_IN_PROGRESS"):
		setReady(s, metav1.ConditionFalse, "InProgress", "stack "+hs.Status)
		return ctrl.Result{RequeueAfter: p.poll}, nil
	case s.Status.LastAppliedGeneration != gen:
		if err := p.heat.update(ctx, s, hs.ID); err != nil {
			return ctrl.Result{}, err
		}
		s.Status.StackStatus, s.Status.StackStatusReason = "UPDATE_IN_PROGRESS", ""
		s.Status.LastAppliedGeneration = gen
		setReady(s, metav1.ConditionFalse, "Updating", "stack update in progress")
		return ctrl.Result{RequeueAfter: p.poll}, nil
	case strings.HasSuffix(hs.Status, "_COMPLETE"):
		s.Status.ObservedGeneration = gen
		setReady(s, metav1.ConditionTrue, "Succeeded", "stack "+hs.Status)
		return ctrl.Result{RequeueAfter: p.resync}, nil
	default: // *_FAILED: a spec change retries
		s.Status.ObservedGeneration = gen
		setReady(s, metav1.ConditionFalse, "Failed", hs.StatusReason)
		return ctrl.Result{RequeueAfter: p.resync}, nil
	}
}

func (r *StackReconciler) finalize(ctx context.Context, s *Stack) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(s, finalizer) {
		return ctrl.Result{}, nil
	}
	p, err := r.provider(ctx, s.Namespace, s.Spec.ProviderRef.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	hs, err := p.heat.get(ctx, stackName(s), s.Status.StackID)
	if err != nil {
		return ctrl.Result{}, err
	}
	if hs != nil {
		if hs.Status != "DELETE_IN_PROGRESS" {
			if err := p.heat.delete(ctx, s, hs.ID); err != nil {
				return ctrl.Result{}, err
			}
		}
		return ctrl.Result{RequeueAfter: p.poll}, nil
	}
	orig := s.DeepCopy()
	controllerutil.RemoveFinalizer(s, finalizer)
	return ctrl.Result{}, r.Patch(ctx, s, client.MergeFrom(orig))
}

func setReady(s *Stack, status metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&s.Status.Conditions, metav1.Condition{
		Type: "Ready", Status: status, Reason: reason, Message: msg, ObservedGeneration: s.Generation,
	})
}

// patchStatus writes the status subresource only when it changed (no writes at rest).
func (r *StackReconciler) patchStatus(ctx context.Context, orig, s *Stack) error {
	if equality.Semantic.DeepEqual(orig.Status, s.Status) {
		return nil
	}
	err := r.Status().Patch(ctx, s, client.MergeFrom(orig))
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// provider returns the Heat client of a StackProvider, rebuilt when the provider or its Secret change.
func (r *StackReconciler) provider(ctx context.Context, ns, name string) (*providerEntry, error) {
	var sp StackProvider
	if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &sp); err != nil {
		return nil, fmt.Errorf("StackProvider %s/%s: %w", ns, name, err)
	}
	if sp.Spec.Heat == nil {
		return nil, fmt.Errorf("StackProvider %s/%s: the twin supports heat only", ns, name)
	}
	var sec corev1.Secret
	if err := r.Get(ctx, client.ObjectKey{Namespace: ns, Name: sp.Spec.Heat.CredentialsSecretRef.Name}, &sec); err != nil {
		return nil, err
	}
	key, version := ns+"/"+name, sp.ResourceVersion+"/"+sec.ResourceVersion
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.clients[key]; ok && e.version == version {
		return e, nil
	}
	log.FromContext(ctx).Info("provider client", "provider", key)
	e := &providerEntry{
		version: version,
		heat:    newHeatClient(heatCreds{spec: *sp.Spec.Heat, username: string(sec.Data["username"]), password: string(sec.Data["password"])}, r.HTTP, sp.Spec.RateLimit),
		poll:    durationOr(sp.Spec.PollInterval, r.DefaultPoll),
		resync:  durationOr(sp.Spec.ResyncInterval, r.DefaultResync),
	}
	r.clients[key] = e
	return e, nil
}

func durationOr(s string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d
	}
	return def
}
