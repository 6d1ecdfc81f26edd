// What every engine's copy pod shares: the pod around the engine's container, placed like the probe
// pod, with the hash of what a re-run may change (a pending pod with another hash is replaced).
import type { CopyPodRequest } from '../../core/copy-engine.js';
import { ANNOTATION_GO, GO, GO_PREPARE } from '../../core/defaults.js';
import { shortHash } from '../../core/names.js';
import { applyPlacement } from '../../core/pod-placement.js';
import type { Pod } from '../../core/types.js';

export const COPY_POD_HASH = 'pvmove.kubectl.io/pod-hash';

/**
 * A hash of what the user can change between runs (image, placement, verification), and, except
 * for the tar engine (whose pods predate the others), the engine's name: a pod another engine made
 * is never taken for this one's. The server adds default tolerations and fields, so comparing
 * specs would always differ; this does not.
 */
export function copyPodHash(s: CopyPodRequest, engine?: string): string {
  return shortHash(
    JSON.stringify([
      ...(engine ? [engine] : []),
      s.copy.image,
      s.copy.imagePullPolicy,
      s.copy.tolerations,
      s.copy.nodeSelector,
      s.verify,
      s.sourceNodeAffinity ?? null,
      // Added only when set, so the hashes of pods made before warm passes existed stay the same.
      ...(s.pass === 'warm' ? ['warm', s.node ?? null] : []),
      ...(s.awaitGo ? ['await-go', s.node ?? null] : []),
    ]),
    12,
  );
}

/** The environment variable that hands the pod the fingerprint an earlier copy recorded. */
export const EXPECT_FINGERPRINT_ENV = 'PVMOVE_EXPECT_FINGERPRINT';

/** The environment variable that makes the pod's pass a warm one (see CopyPodRequest.pass). */
export const PASS_ENV = 'PVMOVE_PASS';

/** Where a waiting pod (CopyPodRequest.awaitGo) reads the go annotation (a downward API file). */
const GO_DIR = '/pvmove-go';

/**
 * Run before the engine's script in a waiting pod: nothing happens until the annotation says go.
 * The kubelet rewrites the downward API file when the pod's annotations change (~0.2 s here); the
 * file is read every 0.1 s, every 0.02 s once told to prepare (the go follows soon after). Told
 * to prepare before that, it runs the engine's \`prepare\` (the tar engine's: one more warm pass,
 * prepare.ts) in a process group of its own, which go stops if it is still running: what it did is
 * what any stopped warm pass leaves, and the final pass starts once the whole group is gone.
 */
function awaitGo(prepare: string | undefined): string {
  return `${prepare ?? ''}
go=""; prepare_pid=""; tick=0.1
until [ "$go" = ${GO} ]; do
  sleep "$tick"; read -r go 2>/dev/null < ${GO_DIR}/go || true
  if [ "$go" = ${GO_PREPARE} ] && [ -z "$prepare_pid" ]; then
    set -m; ( ${prepare ? 'prepare' : 'true'}; printf 'PVMOVE prepared\\n' ) & prepare_pid=$!; set +m
    tick=0.02 # the go follows the prepare within seconds, and the application is down meanwhile
  fi
done
if [ -n "$prepare_pid" ]; then
  kill -- -"$prepare_pid" 2>/dev/null || true; wait "$prepare_pid" 2>/dev/null || true
  # Every process of the group gone (a tar of a warm pass writes to the target) before the pass.
  while kill -0 -- -"$prepare_pid" 2>/dev/null; do sleep 0.01; done
fi
printf 'PVMOVE go\\n'
`;
}

/**
 * The copy pod's spec: one root container running the engine's bash script, the source claim
 * read-only as `src` and the target as `dst`, which the engine maps as it needs (`volumeMounts` for
 * files, `volumeDevices` for raw devices). Root, so every file (device) can be read and ownership
 * restored (crane#213: a non-root copier silently skips what it cannot read); no privilege.
 */
export function copyPodSpec(
  s: CopyPodRequest,
  script: string,
  access: { volumeMounts: object[] } | { volumeDevices: object[] },
  prepare?: string,
): Record<string, unknown> {
  const env = [
    ...(s.expectFingerprint ? [{ name: EXPECT_FINGERPRINT_ENV, value: s.expectFingerprint }] : []),
    ...(s.pass === 'warm' ? [{ name: PASS_ENV, value: 'warm' }] : []),
  ];
  const goMount = { name: 'go', mountPath: GO_DIR, readOnly: true };
  const mounts = s.awaitGo
    ? 'volumeMounts' in access
      ? { volumeMounts: [...access.volumeMounts, goMount] }
      : { ...access, volumeMounts: [goMount] }
    : access;
  return {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 10,
    securityContext: { runAsUser: 0, runAsGroup: 0 },
    containers: [
      {
        name: 'copy',
        image: s.copy.image,
        imagePullPolicy: s.copy.imagePullPolicy,
        command: ['bash', '-c', s.awaitGo ? awaitGo(prepare) + script : script],
        ...(env.length > 0 ? { env } : {}),
        securityContext: { runAsUser: 0, runAsGroup: 0, allowPrivilegeEscalation: false },
        ...mounts,
      },
    ],
    volumes: [
      { name: 'src', persistentVolumeClaim: { claimName: s.sourceClaim, readOnly: true } },
      { name: 'dst', persistentVolumeClaim: { claimName: s.targetClaim } },
      ...(s.awaitGo
        ? [
            {
              name: 'go',
              downwardAPI: {
                items: [{ path: 'go', fieldRef: { fieldPath: `metadata.annotations['${ANNOTATION_GO}']` } }],
              },
            },
          ]
        : []),
    ],
  };
}

/** The pod: the engine's spec, placed, named and labelled as asked, with the engine's hash. */
export function copyPod(s: CopyPodRequest, spec: Record<string, unknown>, hash: string): Pod {
  applyPlacement(spec, s);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: s.name,
      namespace: s.namespace,
      labels: { ...s.labels },
      annotations: { [COPY_POD_HASH]: hash },
    },
    spec: spec as Pod['spec'],
  };
}
