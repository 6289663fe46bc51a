package main

// Hand-written API types for the stackoperator.dev/v1alpha1 CRDs (crds/ in the repository): only the
// fields the twin reads or writes. Unknown fields are dropped when decoding into the cache, and every
// write is a merge patch computed from a diff, so fields the twin does not know are never overwritten.

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var groupVersion = schema.GroupVersion{Group: "stackoperator.dev", Version: "v1alpha1"}

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(groupVersion, &Stack{}, &StackList{}, &StackProvider{}, &StackProviderList{})
	metav1.AddToGroupVersion(s, groupVersion)
	return nil
}

type Stack struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              StackSpec   `json:"spec"`
	Status            StackStatus `json:"status,omitempty"`
}

type StackSpec struct {
	ProviderRef LocalRef `json:"providerRef"`
	StackName   string   `json:"stackName,omitempty"`
	// Kept as raw JSON: the twin passes the inline template and the parameters to Heat unchanged.
	Template   json.RawMessage `json:"template,omitempty"`
	Parameters json.RawMessage `json:"parameters,omitempty"`
}

type LocalRef struct {
	Name string `json:"name"`
}

type StackStatus struct {
	ObservedGeneration    int64              `json:"observedGeneration,omitempty"`
	StackID               string             `json:"stackId,omitempty"`
	StackName             string             `json:"stackName,omitempty"`
	ProviderType          string             `json:"providerType,omitempty"`
	StackStatus           string             `json:"stackStatus,omitempty"`
	StackStatusReason     string             `json:"stackStatusReason,omitempty"`
	LastAppliedGeneration int64              `json:"lastAppliedGeneration,omitempty"`
	Conditions            []metav1.Condition `json:"conditions,omitempty"`
}

type StackList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Stack `json:"items"`
}

type StackProvider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              StackProviderSpec `json:"spec"`
}

type StackProviderSpec struct {
	Heat           *HeatSpec  `json:"heat,omitempty"`
	RateLimit      *RateLimit `json:"rateLimit,omitempty"`
	PollInterval   string     `json:"pollInterval,omitempty"`
	ResyncInterval string     `json:"resyncInterval,omitempty"`
}

type HeatSpec struct {
	AuthURL              string   `json:"authUrl"`
	Region               string   `json:"region,omitempty"`
	Interface            string   `json:"interface,omitempty"`
	ProjectName          string   `json:"projectName,omitempty"`
	ProjectID            string   `json:"projectId,omitempty"`
	ProjectDomainName    string   `json:"projectDomainName,omitempty"`
	UserDomainName       string   `json:"userDomainName,omitempty"`
	CredentialsSecretRef LocalRef `json:"credentialsSecretRef"`
}

type RateLimit struct {
	QPS   float64 `json:"qps,omitempty"`
	Burst int     `json:"burst,omitempty"`
}

type StackProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []StackProvider `json:"items"`
}

// ---- deep copies (what controller-gen would generate) ----

func (in *Stack) DeepCopyInto(out *Stack) {
	*out = *in
	out.TypeMeta = in.TypeMeta
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	out.Spec.Template = append(json.RawMessage(nil), in.Spec.Template...)
	out.Spec.Parameters = append(json.RawMessage(nil), in.Spec.Parameters...)
	if in.Status.Conditions != nil {
		out.Status.Conditions = make([]metav1.Condition, len(in.Status.Conditions))
		for i := range in.Status.Conditions {
			in.Status.Conditions[i].DeepCopyInto(&out.Status.Conditions[i])
		}
	}
}

func (in *Stack) DeepCopy() *Stack {
	out := new(Stack)
	in.DeepCopyInto(out)
	return out
}

func (in *Stack) DeepCopyObject() runtime.Object { return in.DeepCopy() }

func (in *StackList) DeepCopyObject() runtime.Object {
	out := &StackList{TypeMeta: in.TypeMeta}
	in.ListMeta.DeepCopyInto(&out.ListMeta)
	if in.Items != nil {
		out.Items = make([]Stack, len(in.Items))
		for i := range in.Items {
			in.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
	return out
}

func (in *StackProvider) DeepCopyInto(out *StackProvider) {
	*out = *in
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	if in.Spec.Heat != nil {
		h := *in.Spec.Heat
		out.Spec.Heat = &h
	}
	if in.Spec.RateLimit != nil {
		r := *in.Spec.RateLimit
		out.Spec.RateLimit = &r
	}
}

func (in *StackProvider) DeepCopyObject() runtime.Object {
	out := new(StackProvider)
	in.DeepCopyInto(out)
	return out
}

func (in *StackProviderList) DeepCopyObject() runtime.Object {
	out := &StackProviderList{TypeMeta: in.TypeMeta}
	in.ListMeta.DeepCopyInto(&out.ListMeta)
	if in.Items != nil {
		out.Items = make([]StackProvider, len(in.Items))
		for i := range in.Items {
			in.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
	return out
}
