#!/usr/bin/env bash
# Makes weft-injector's serving certificate: a private CA and a P-256
# certificate for weft-injector.<namespace>.svc, valid 10 years. Then, unless
# --out DIR is given, stores it as the Secret weft-injector-tls and sets the
# MutatingWebhookConfiguration's caBundle (kubectl, current context).
#   deploy/gen-webhook-cert.sh [--namespace weft-system] [--out DIR]
set -euo pipefail
namespace=weft-system
out=""
while (($#)); do
  case "$1" in
    --namespace) namespace=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--namespace NS] [--out DIR]" >&2; exit 2 ;;
  esac
done
dir=${out:-$(mktemp -d)}
mkdir -p "$dir"
host="weft-injector.$namespace.svc"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -subj "/CN=weft-injector-ca" -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$host" \
  -keyout "$dir/tls.key" -out "$dir/tls.csr" 2>/dev/null
printf 'subjectAltName=DNS:%s,DNS:weft-injector.%s\nextendedKeyUsage=serverAuth\n' \
  "$host" "$namespace" >"$dir/ext.cnf"
openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
  -days 3650 -extfile "$dir/ext.cnf" -out "$dir/tls.crt" 2>/dev/null
rm -f "$dir/tls.csr" "$dir/ext.cnf" "$dir/ca.srl"
chmod 600 "$dir/ca.key" "$dir/tls.key"
if [ -n "$out" ]; then
  echo "wrote $dir/{ca.crt,ca.key,tls.crt,tls.key} for $host"
  exit 0
fi
kubectl -n "$namespace" create secret tls weft-injector-tls --cert "$dir/tls.crt" \
  --key "$dir/tls.key" --dry-run=client -o yaml | kubectl apply -f -
bundle=$(base64 -w0 <"$dir/ca.crt")
count=$(kubectl get mutatingwebhookconfiguration weft-injector -o jsonpath='{.webhooks[*].name}' | wc -w)
patch="["
for ((i = 0; i < count; i++)); do
  ((i)) && patch+=","
  patch+="{\"op\":\"replace\",\"path\":\"/webhooks/$i/clientConfig/caBundle\",\"value\":\"$bundle\"}"
done
kubectl patch mutatingwebhookconfiguration weft-injector --type=json -p "$patch]"
rm -rf "$dir"
