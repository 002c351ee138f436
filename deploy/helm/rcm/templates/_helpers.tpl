{{/* Names and labels shared by every template. */}}

{{- define "rcm.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "rcm.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "rcm.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "rcm.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "rcm.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "rcm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: rcm
{{- end -}}

{{/* dst <- src, recursively for maps; unlike mergeOverwrite, false, 0 and "" in src win. */}}
{{- define "rcm.deepMerge" -}}
{{- $dst := .dst -}}
{{- range $k, $v := .src -}}
{{- if and (kindIs "map" $v) (kindIs "map" (index $dst $k)) -}}
{{- include "rcm.deepMerge" (dict "dst" (index $dst $k) "src" $v) -}}
{{- else -}}
{{- $_ := set $dst $k $v -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The services to deploy: [{name, ...serviceDefaults merged with services.<name>}], sorted by name. */}}
{{- define "rcm.services" -}}
{{- $out := list -}}
{{- range $name, $cfg := .Values.services -}}
{{- $svc := deepCopy $.Values.serviceDefaults -}}
{{- include "rcm.deepMerge" (dict "dst" $svc "src" (deepCopy (default dict $cfg))) -}}
{{- if $svc.enabled -}}
{{- $_ := set $svc "name" $name -}}
{{- if not $svc.consumers -}}{{- $_ := set $svc "consumers" (list $name) -}}{{- end -}}
{{- $out = append $out $svc -}}
{{- end -}}
{{- end -}}
{{- toJson (dict "items" $out) -}}
{{- end -}}

{{/* Per-service names and labels; called with (dict "root" $ "svc" $svc). */}}
{{- define "rcm.svc.fullname" -}}
{{- printf "%s-%s" (include "rcm.fullname" .root) .svc.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "rcm.svc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rcm.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .svc.name }}
{{- end -}}

{{- define "rcm.svc.labels" -}}
{{ include "rcm.labels" .root }}
app.kubernetes.io/component: {{ .svc.name }}
{{- end -}}

{{- define "rcm.serviceAccountName" -}}
{{- if .svc.serviceAccount.name -}}
{{- .svc.serviceAccount.name -}}
{{- else -}}
{{- include "rcm.svc.fullname" . -}}
{{- end -}}
{{- end -}}

{{- define "rcm.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "rcm.databaseSecret" -}}
{{- $db := default dict .svc.database -}}
{{- default .root.Values.database.existingSecret $db.existingSecret -}}
{{- end -}}

{{- define "rcm.databaseKey" -}}
{{- $db := default dict .svc.database -}}
{{- default .svc.name $db.secretKey -}}
{{- end -}}

{{- define "rcm.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.runAsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "rcm.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* Environment of a service container (not its secrets' values: those are references). */}}
{{- define "rcm.svc.env" -}}
- name: RCM_SERVICE_NAME
  value: {{ .svc.name | quote }}
- name: RCM_HTTP_PORT
  value: {{ .root.Values.httpPort | quote }}
- name: RCM_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "rcm.databaseSecret" . | quote }}
      key: {{ include "rcm.databaseKey" . | quote }}
{{- $kafka := .root.Values.kafka }}
{{- if $kafka.sasl.existingSecret }}
- name: RCM_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $kafka.sasl.existingSecret | quote }}
      key: {{ $kafka.sasl.usernameKey | quote }}
- name: RCM_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $kafka.sasl.existingSecret | quote }}
      key: {{ $kafka.sasl.passwordKey | quote }}
{{- end }}
{{- if $kafka.tls.existingSecret }}
- name: RCM_KAFKA_SSL_CAFILE
  value: {{ printf "/etc/rcm/kafka-tls/%s" $kafka.tls.caKey | quote }}
{{- if $kafka.tls.certKey }}
- name: RCM_KAFKA_SSL_CERTFILE
  value: {{ printf "/etc/rcm/kafka-tls/%s" $kafka.tls.certKey | quote }}
- name: RCM_KAFKA_SSL_KEYFILE
  value: {{ printf "/etc/rcm/kafka-tls/%s" $kafka.tls.keyKey | quote }}
{{- end }}
{{- end }}
{{- range $k, $v := .svc.env }}
- name: {{ $k }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- end -}}

{{- define "rcm.svc.envFrom" -}}
- configMapRef:
    name: {{ include "rcm.fullname" .root }}-env
{{- if .svc.clearinghouse }}
- configMapRef:
    name: {{ include "rcm.fullname" .root }}-clearinghouse
{{- end }}
{{- if and .svc.clearinghouse .root.Values.clearinghouse.existingSecret }}
- secretRef:
    name: {{ .root.Values.clearinghouse.existingSecret | quote }}
{{- end }}
{{- end -}}

{{- define "rcm.svc.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .root.Values.kafka.tls.existingSecret }}
- name: kafka-tls
  mountPath: /etc/rcm/kafka-tls
  readOnly: true
{{- end }}
{{- if and .svc.clearinghouse .root.Values.clearinghouse.filesSecret }}
- name: clearinghouse
  mountPath: /etc/rcm/clearinghouse
  readOnly: true
{{- end }}
{{- end -}}

{{- define "rcm.svc.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .root.Values.tmpSizeLimit }}
{{- if .root.Values.kafka.tls.existingSecret }}
- name: kafka-tls
  secret:
    secretName: {{ .root.Values.kafka.tls.existingSecret | quote }}
    defaultMode: 0440
{{- end }}
{{- if and .svc.clearinghouse .root.Values.clearinghouse.filesSecret }}
- name: clearinghouse
  secret:
    secretName: {{ .root.Values.clearinghouse.filesSecret | quote }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{/* NetworkPolicy egress rules from values entries {to, ports}; called with a list of entries. */}}
{{- define "rcm.egressRules" -}}
{{- $rules := list -}}
{{- range . -}}
{{- $ports := list -}}
{{- range .ports -}}
{{- $ports = append $ports (dict "protocol" "TCP" "port" (int .)) -}}
{{- end -}}
{{- $rules = append $rules (dict "to" .to "ports" $ports) -}}
{{- end -}}
{{- toYaml $rules -}}
{{- end -}}

{{/* Nested settings as environment variables: {sftp: {host: h}} -> RCM_CLEARINGHOUSE__SFTP__HOST: "h".
   Every service that talks to payers reads RCM_CLEARINGHOUSE__* (rcm.clearinghouse). */}}
{{- define "rcm.flattenEnv" -}}
{{- $prefix := .prefix -}}
{{- range $k, $v := .value -}}
{{- $key := printf "%s__%s" $prefix (upper $k) -}}
{{- if kindIs "map" $v -}}
{{- include "rcm.flattenEnv" (dict "prefix" $key "value" $v) -}}
{{- else if kindIs "slice" $v }}
{{ $key }}: {{ toJson $v | quote }}
{{- else }}
{{ $key }}: {{ $v | toString | quote }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The CLI sub-command of a service (rcm <cli> run). */}}
{{- define "rcm.svc.cli" -}}
{{- default .name .cli -}}
{{- end -}}

{{- define "rcm.dnsEgress" -}}
- to:
    - namespaceSelector: {}
      podSelector:
        matchLabels:
          {{- toYaml .Values.networkPolicy.dnsPodLabels | nindent 10 }}
  ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
{{- end -}}
