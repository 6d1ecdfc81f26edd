# Certificates and kubeconfig of the test bed: one small openssl CA, the API server's serving
# certificate, one system:masters client certificate shared by the components and the tests, and
# the service-account key pair. Sourced, never run.

make_pki() {
  local host_ip=$1
  [ -s "$TB_PKI/admin.crt" ] && return 0
  mkdir -p "$TB_PKI"
  (
    cd "$TB_PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
      -subj "/CN=kubectl-pvmove-testbed-ca" 2>/dev/null
    cat >apiserver.ext <<EXT
subjectAltName=IP:127.0.0.1,IP:$host_ip,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth
EXT
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt \
      -days 3650 -extfile apiserver.ext 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=testbed-admin" 2>/dev/null
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt \
      -days 3650 -extfile client.ext 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    rm -f ./*.csr ./*.ext
  )
}

write_kubeconfig() {
  cat >"$TB_KUBECONFIG" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: pvmove-testbed
  cluster:
    server: https://127.0.0.1:$TB_API_PORT
    certificate-authority-data: $(base64 -w0 "$TB_PKI/ca.crt")
users:
- name: testbed-admin
  user:
    client-certificate-data: $(base64 -w0 "$TB_PKI/admin.crt")
    client-key-data: $(base64 -w0 "$TB_PKI/admin.key")
contexts:
- name: pvmove-testbed
  context:
    cluster: pvmove-testbed
    user: testbed-admin
    namespace: default
current-context: pvmove-testbed
EOF
  chmod 600 "$TB_KUBECONFIG"
}
