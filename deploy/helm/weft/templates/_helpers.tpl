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
