{{/* Chart name, truncated to 63 characters. */}}
{{- define "stack-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart unless the release name already contains the chart name. */}}
{{- define "stack-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "stack-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "stack-operator.labels" -}}
helm.sh/chart: {{ include "stack-operator.chart" . }}
{{ include "stack-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: stack-operator
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels (immutable on the Deployment: keep them stable). */}}
{{- define "stack-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "stack-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "stack-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "stack-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "stack-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
RBAC rules the operator needs in every namespace it serves (src/stacks/*.ts, src/runtime/*.ts):
- stacks: informer list/watch, get; finalizer add/remove is a JSON patch on the object (patch);
  update kept for clients that replace. stacks/status: merge patch. stacks/finalizers: update, for
  clusters that enforce OwnerReferencesPermissionEnforcement on the outputs' ownerReferences.
- stackproviders: informer; stackproviders/status: the provider controller's Ready condition.
- secrets: get (credentials, parametersFrom), create + update (the outputs Secret it created, replaced at
  the resourceVersion it read);
  never list or watch, so no Secret contents are ever bulk-readable.
- configmaps: get (template configMapRef, parametersFrom), create + update (the outputs ConfigMap).
- namespaces: get (a ClusterStackProvider's namespaceSelector), in the cluster-scoped rules.
- events.k8s.io events: create, patch (series count of repeated events).
*/}}
{{- define "stack-operator.namespacedRules" -}}
- apiGroups: ["stackoperator.dev"]
  resources: ["stacks"]
  verbs: ["get", "list", "watch", "patch", "update"]
- apiGroups: ["stackoperator.dev"]
  resources: ["stacks/status"]
  verbs: ["patch", "update"]
- apiGroups: ["stackoperator.dev"]
  resources: ["stacks/finalizers"]
  verbs: ["update"]
- apiGroups: ["stackoperator.dev"]
  resources: ["stackproviders"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["stackoperator.dev"]
  resources: ["stackproviders/status"]
  verbs: ["patch", "update"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "create", "update"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "create", "update"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/* ClusterStackProviders are cluster-scoped: always a ClusterRole. */}}
{{- define "stack-operator.clusterProviderRules" -}}
- apiGroups: ["stackoperator.dev"]
  resources: ["clusterstackproviders"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["stackoperator.dev"]
  resources: ["clusterstackproviders/status"]
  verbs: ["patch", "update"]
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["get"]
{{- end }}
