{{- define "weft.tag" -}}{{ .Values.image.tag | default .Chart.AppVersion }}{{- end -}}
{{- define "weft.proxyImage" -}}{{ .Values.image.registry }}/weft-proxy:{{ include "weft.tag" . }}{{- end -}}
{{- define "weft.controlImage" -}}{{ .Values.image.registry }}/weft-control:{{ include "weft.tag" . }}{{- end -}}
{{- define "weft.labels" -}}
app.kubernetes.io/part-of: weft
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
{{- define "weft.injectorHost" -}}weft-injector.{{ .Release.Namespace }}.svc{{- end -}}
{{- /* Replicas of one component on different nodes where the cluster has
them (preferred, so a one-node cluster still runs both), and a
PodDisruptionBudget so a drain never takes the last one. */ -}}
{{- define "weft.spreadReplicas" -}}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              app: {{ .app }}
{{- end -}}
{{- define "weft.disruptionBudget" -}}
{{- if gt (int .replicas) 1 }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .app }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    app: {{ .app }}
    {{- include "weft.labels" .root | nindent 4 }}
spec:
  minAvailable: {{ .minAvailable }}
  selector:
    matchLabels:
      app: {{ .app }}
{{- end }}
{{- end -}}
