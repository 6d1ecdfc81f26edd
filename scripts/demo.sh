#!/usr/bin/env bash
# The main job on its embedded default: bring up the local test bed, deploy a sample database
# (StatefulSet `db`, claim `postgres-db-0` of 1Gi on class `standard`, data owned by uid 999 with
# mode 0700), and move it to class `fast` at 2Gi with the real binary, run as `kubectl pvmove`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/testbed/testbed.sh up
eval "$(bash scripts/testbed/testbed.sh env)"
export PATH="$PWD/node_modules/.bin:$PATH"
ns=pvmove-demo

echo "== building the single binary and installing it on PATH as kubectl-pvmove"
npm run -s build:binary
bindir=$(mktemp -d); trap 'rm -rf "$bindir"' EXIT; ln -s "$PWD/dist/kubectl-pvmove" "$bindir/kubectl-pvmove"; export PATH="$bindir:$PATH"
kubectl pvmove --version

echo "== sample workload: StatefulSet db in namespace $ns"
kubectl delete namespace "$ns" --ignore-not-found --wait=true >/dev/null
# A previous demo's retained source PV (the move keeps it until cleanup) goes with its namespace.
kubectl get pv -o json | jq -r --arg ns "$ns" '.items[] | select(.spec.claimRef.namespace == $ns) | .metadata.name' |
  xargs -r kubectl delete pv >/dev/null
kubectl create namespace "$ns" >/dev/null
kubectl -n "$ns" apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: db
        image: docker.io/library/debian:12-slim
        imagePullPolicy: IfNotPresent
        command: [bash, -c, 'if [ ! -f /var/lib/postgresql/data/PG_VERSION ]; then mkdir -p /var/lib/postgresql/data && echo 16 > /var/lib/postgresql/data/PG_VERSION && head -c 20000000 /dev/urandom > /var/lib/postgresql/data/base.dat && chown -R 999:999 /var/lib/postgresql/data && chmod 0700 /var/lib/postgresql/data; fi; exec sleep infinity']
        volumeMounts: [{name: postgres, mountPath: /var/lib/postgresql}]
  volumeClaimTemplates:
  - metadata: {name: postgres, labels: {app: db, tier: data}, annotations: {backup.example.com/schedule: nightly}}
    spec: {accessModes: [ReadWriteOnce], storageClassName: standard, resources: {requests: {storage: 1Gi}}}
YAML
kubectl -n "$ns" rollout status statefulset/db --timeout=180s
before=$(kubectl -n "$ns" exec db-0 -- sha256sum /var/lib/postgresql/data/base.dat)
kubectl -n "$ns" get pvc postgres-db-0 -o wide

echo "== kubectl pvmove postgres-db-0 --to-class fast --size 2Gi -n $ns"
kubectl pvmove postgres-db-0 --to-class fast --size 2Gi -n "$ns" --yes

echo "== after the move"
kubectl -n "$ns" rollout status statefulset/db --timeout=180s
kubectl -n "$ns" get pvc postgres-db-0 -o wide
kubectl get pv -L pvmove.kubectl.io/migration-id | awk -v ns="$ns/" 'NR == 1 || index($0, ns)'
after=$(kubectl -n "$ns" exec db-0 -- sha256sum /var/lib/postgresql/data/base.dat)
kubectl -n "$ns" exec db-0 -- stat -c '%u:%g %a %n' /var/lib/postgresql/data
[ "$before" = "$after" ] && echo "data identical: $after" || { echo "DATA DIFFERS: $before vs $after"; exit 1; }
