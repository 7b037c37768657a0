{{/* One Deployment of a Chatlens component. Call with a dict:
       root      the top context ($)
       name      the component ("gateway")
       spec      its values (image, replicas, resources, nodeSelector, ...)
       clients   pod labels saying what it talks to ("amqp", "db", "dask", "redis")
       container the rest of the main container (env, ports, probes, mounts), as YAML
       volumes   its volumes, as YAML
       replicas  false when an autoscaler owns the replica count */}}
{{- define "chatlens.deployment" -}}
{{- $root := .root -}}
{{- $spec := .spec -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "chatlens.name" (list $root .name) }}
  labels: {{- include "chatlens.labels" (list $root .name) | nindent 4 }}
spec:
  {{- if ne (toString .replicas) "false" }}
  replicas: {{ $spec.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels: {{- include "chatlens.selectorLabels" (list $root .name) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "chatlens.labels" (list $root .name) | nindent 8 }}
        {{- range .clients }}
        chatlens.io/{{ . }}-client: "true"
        {{- end }}
    spec:
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ $spec.terminationGracePeriodSeconds | default 30 }}
      securityContext: {{- include "chatlens.podSecurityContext" dict | nindent 8 }}
      {{- with $root.Values.image.pullSecrets }}
      imagePullSecrets: {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- include "chatlens.scheduling" $spec | nindent 6 }}
      containers:
        - name: {{ .name }}
          image: {{ include "chatlens.image" (list $root $spec.image) }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          securityContext: {{- include "chatlens.containerSecurityContext" (dict "readOnly" true) | nindent 12 }}
          resources: {{- toYaml $spec.resources | nindent 12 }}
          {{- .container | nindent 10 }}
      volumes:
        - name: tmp
          emptyDir: {}
        {{- with .volumes }}
        {{- . | nindent 8 }}
        {{- end }}
{{- end -}}

{{/* A ClusterIP Service on one named port "http" (call with (list $ "gateway" 8100)). */}}
{{- define "chatlens.service" -}}
{{- $root := index . 0 -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "chatlens.name" (list $root (index . 1)) }}
  labels: {{- include "chatlens.labels" (list $root (index . 1)) | nindent 4 }}
spec:
  selector: {{- include "chatlens.selectorLabels" (list $root (index . 1)) | nindent 4 }}
  ports:
    - {name: http, port: {{ index . 2 }}, targetPort: http}
{{- end -}}

{{/* A one-replica StatefulSet of a data store for evaluation installs, with its own volume.
     Call with a dict: root, name, spec (image, resources, persistence), uid, container, volumes,
     readOnly (root filesystem). */}}
{{- define "chatlens.datastore" -}}
{{- $root := .root -}}
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "chatlens.name" (list $root .name) }}
  labels: {{- include "chatlens.labels" (list $root .name) | nindent 4 }}
spec:
  replicas: 1
  serviceName: {{ include "chatlens.name" (list $root .name) }}
  selector:
    matchLabels: {{- include "chatlens.selectorLabels" (list $root .name) | nindent 6 }}
  template:
    metadata:
      labels: {{- include "chatlens.labels" (list $root .name) | nindent 8 }}
    spec:
      automountServiceAccountToken: false
      enableServiceLinks: false
      securityContext: {{- include "chatlens.podSecurityContext" (dict "uid" .uid) | nindent 8 }}
      containers:
        - name: {{ .name }}
          image: {{ include "chatlens.image" (list $root .spec.image) }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          securityContext: {{- include "chatlens.containerSecurityContext" (dict "readOnly" .readOnly) | nindent 12 }}
          resources: {{- toYaml .spec.resources | nindent 12 }}
          {{- .container | nindent 10 }}
      {{- with .volumes }}
      volumes: {{- . | nindent 8 }}
      {{- end }}
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: ["ReadWriteOnce"]
        {{- with .spec.persistence.storageClass }}
        storageClassName: {{ . }}
        {{- end }}
        resources:
          requests:
            storage: {{ .spec.persistence.size }}
{{- end -}}
