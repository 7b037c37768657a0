{{/* Names, labels, images and the pieces every Chatlens workload shares. */}}

{{- define "chatlens.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* chatlens.name: "<fullname>-<component>" (call with (list $ "gateway")). */}}
{{- define "chatlens.name" -}}
{{- printf "%s-%s" (include "chatlens.fullname" (index . 0)) (index . 1) -}}
{{- end -}}

{{- define "chatlens.selectorLabels" -}}
app.kubernetes.io/name: {{ (index . 0).Chart.Name }}
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "chatlens.labels" -}}
{{ include "chatlens.selectorLabels" . }}
app.kubernetes.io/part-of: chatlens
app.kubernetes.io/version: {{ (index . 0).Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ (index . 0).Release.Service }}
helm.sh/chart: {{ printf "%s-%s" (index . 0).Chart.Name (index . 0).Chart.Version }}
{{- end -}}

{{/* An image reference from {repository, tag}: the tag defaults to the chart's appVersion, and
     "latest" (or no tag at all) is refused: a rollout must name what it runs. */}}
{{- define "chatlens.image" -}}
{{- $ctx := index . 0 -}}
{{- $image := index . 1 -}}
{{- $tag := $image.tag | default $ctx.Values.image.tag | default $ctx.Chart.AppVersion | toString -}}
{{- if or (eq $tag "latest") (eq $tag "") -}}
{{- fail (printf "image %s: tag %q is not allowed; pin a version" $image.repository $tag) -}}
{{- end -}}
{{- $registry := $image.registry | default $ctx.Values.image.registry -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" $registry $image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" $image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "chatlens.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "chatlens.name" (list . "secrets")) -}}
{{- end -}}

{{/* The pod security context of Chatlens images (UID 10001, see deploy/README.md). */}}
{{- define "chatlens.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid | default 10001 }}
runAsGroup: {{ .uid | default 10001 }}
fsGroup: {{ .uid | default 10001 }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "chatlens.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: {{ .readOnly | default false }}
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* AMQP_URL: the chart's (or the existing) Secret, or the RabbitMQ operator's default user. */}}
{{- define "chatlens.amqpEnv" -}}
{{- if eq .Values.rabbitmq.mode "operator" }}
- name: RABBITMQ_USERNAME
  valueFrom: {secretKeyRef: {name: {{ include "chatlens.name" (list . "rabbitmq-default-user") }}, key: username}}
- name: RABBITMQ_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ include "chatlens.name" (list . "rabbitmq-default-user") }}, key: password}}
- name: AMQP_URL
  value: {{ printf "amqp://$(RABBITMQ_USERNAME):$(RABBITMQ_PASSWORD)@%s:5672/%%2F" (include "chatlens.name" (list . "rabbitmq")) | quote }}
{{- else }}
- name: AMQP_URL
  valueFrom: {secretKeyRef: {name: {{ include "chatlens.secretName" . }}, key: amqp-url}}
{{- end }}
{{- end -}}

{{/* What every Python service is told: the same INDEX_REPLICAS everywhere (it decides routing). */}}
{{- define "chatlens.commonEnv" -}}
- name: INDEX_REPLICAS
  value: {{ .Values.index.replicas | quote }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: SENTRY_DSN
  value: {{ .Values.sentryDsn | quote }}
- name: SENTRY_ENVIRONMENT
  value: {{ .Values.sentryEnvironment | quote }}
- name: SENTRY_RELEASE
  value: {{ printf "chatlens@%s" (.Values.image.tag | default .Chart.AppVersion) | quote }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.tracing.otlpEndpoint | quote }}
- name: HOST
  value: "0.0.0.0"
- name: DATA_DIR
  value: /data
{{- include "chatlens.amqpEnv" . }}
{{- end -}}

{{- define "chatlens.databaseEnv" -}}
- name: DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ include "chatlens.secretName" . }}, key: database-url}}
- name: AUTO_MIGRATE
  value: {{ not .Values.migrations.enabled | quote }}
{{- end -}}

{{- define "chatlens.schedulerAddress" -}}
{{- printf "tcp://%s:8786" (include "chatlens.name" (list . "dask-scheduler")) -}}
{{- end -}}

{{/* Probes on a service's /healthz (alive) and /readyz (its dependencies answer); a startup
     probe gives slow starts (models, index warm-up) time without a lax liveness probe. */}}
{{- define "chatlens.probes" -}}
startupProbe:
  httpGet: {path: {{ .live | default "/healthz" }}, port: {{ .port }}}
  periodSeconds: 5
  failureThreshold: {{ .startupFailures | default 60 }}
livenessProbe:
  httpGet: {path: {{ .live | default "/healthz" }}, port: {{ .port }}}
  periodSeconds: 15
  timeoutSeconds: 5
  failureThreshold: 4
readinessProbe:
  httpGet: {path: {{ .ready | default "/readyz" }}, port: {{ .port }}}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
{{- end -}}

{{- define "chatlens.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* True when a worker group is scaled by KEDA or an HPA (its Deployment then has no replicas). */}}
{{- define "chatlens.autoscaled" -}}
{{- if and .root.Values.autoscaling.enabled .spec.autoscaling .spec.autoscaling.enabled -}}true{{- end -}}
{{- end -}}

{{/* The Dask worker groups as a map: dask.workerGroups, plus "gpu" when gpu.enabled (the CUDA
     image, nvidia.com/gpu in its limits, GPU node selector and tolerations). */}}
{{- define "chatlens.daskGroups" -}}
{{- $groups := deepCopy .Values.dask.workerGroups -}}
{{- if .Values.gpu.enabled -}}
{{- $gpu := deepCopy .Values.gpu.workers -}}
{{- $limits := merge (dict (.Values.gpu.resourceName) (.Values.gpu.perWorker | toString)) ($gpu.resources.limits | default dict) -}}
{{- $_ := set $gpu.resources "limits" $limits -}}
{{- $_ := set $gpu "image" .Values.gpu.image -}}
{{- $_ := set $groups "gpu" $gpu -}}
{{- end -}}
{{- toYaml $groups -}}
{{- end -}}

{{/* A NetworkPolicy peer: the release's pods with label chatlens.io/<key> (or the component
     label when key is "component"). Call with (list $ key value). */}}
{{- define "chatlens.peer" -}}
{{- $root := index . 0 -}}
{{- $label := ternary "app.kubernetes.io/component" (printf "chatlens.io/%s" (index . 1)) (eq (index . 1) "component") -}}
podSelector:
  matchLabels:
    app.kubernetes.io/instance: {{ $root.Release.Name }}
    {{ $label }}: {{ index . 2 | quote }}
{{- end -}}

{{/* The web app's Sentry origin for nginx's connect-src (" https://o1.ingest.sentry.io", the key
     and path left out), from web.sentryDsn; nothing without one. A DSN that is not a plain
     http(s) URL fails the rendering rather than reaching nginx's configuration (the local
     stack's twin: chatlens.cli.stack.sentry_connect_src). */}}
{{- define "chatlens.web.sentryConnectSrc" -}}
{{- with .Values.web.sentryDsn -}}
{{- if not (regexMatch "^[hH][tT][tT][pP][sS]?://([^/@\\s;'\"]*@)?[A-Za-z0-9.-]+(:[0-9]+)?(/[^\\s;'\"]*)?$" .) -}}
{{- fail (printf "web.sentryDsn is not an http(s) URL: %q" .) -}}
{{- end -}}
{{- $url := urlParse . -}}
{{- printf " %s://%s" $url.scheme $url.host | lower -}}
{{- end -}}
{{- end -}}

{{/* nginx's include for the web app's Content-Security-Policy (prod.conf's chatlens.d). */}}
{{- define "chatlens.nginx.sentryConf" -}}
{{- with include "chatlens.web.sentryConnectSrc" . -}}
set $sentry_connect_src "{{ . }}";
{{- else -}}
# No web.sentryDsn: the web app connects to its own origin only.
{{- end }}
{{ end -}}
