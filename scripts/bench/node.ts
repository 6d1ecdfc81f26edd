// What the benchmark does on the node itself (this machine is the test bed's only node): page-cache
// drops, timed shell commands, and the copy tools pvmove is compared with.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { MEASURE_AWK } from '../../src/engines/tar/script.js';

const PRESERVE = `--numeric-owner --acls --xattrs --xattrs-include='*'`;

/** The contenders that run on the node, each copying SRC into the empty DST, then flushing DST to disk. */
export const NODE_CONTENDERS = {
  /** The limit: the node's own tar pipe, default records, same preservation flags as the copy pod. */
  tar: `tar -C "$SRC" ${PRESERVE} --sparse --one-file-system --totals -cf - . 2>"$TOTALS" | tar -C "$DST" ${PRESERVE} --same-owner --preserve-permissions -xf -`,
  cp: `cp -a "$SRC/." "$DST/"`,
  rsync: `rsync -aHAXS "$SRC/" "$DST/"`,
} as const;
export type NodeContender = keyof typeof NODE_CONTENDERS;

export function sh(script: string, env: Record<string, string> = {}): string {
  return execFileSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, ...env } });
}

/** Flushes and drops the page cache, so every contender starts cold; false where not permitted. */
export function dropCaches(): boolean {
  const r = spawnSync('bash', ['-c', 'sync && echo 3 > /proc/sys/vm/drop_caches'], { stdio: 'ignore' });
  return r.status === 0;
}

/** Runs `script` (SRC, DST set), then `sync -f DST`; returns the seconds both took. */
export function timed(script: string, env: Record<string, string>): number {
  const start = process.hrtime.bigint();
  sh(`set -euo pipefail\n${script}\nsync -f "$DST"`, env);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export function emptyDir(dir: string): void {
  sh(`find "$D" -mindepth 1 -delete`, { D: dir });
}

export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

export function freeBytes(dir: string): number {
  return Number(sh(`df -B1 --output=avail "$D" | tail -n1`, { D: dir }).trim());
}

/** The copy pod's own measurement, run on the node: entries, data bytes, used bytes, archive blocks. */
export function measure(dir: string): {
  entries: number;
  dataBytes: number;
  usedBytes: number;
  archiveBytes: number;
} {
  const out = sh(`find "$D" -xdev -mindepth 1 -printf '%y %s %b %n %i\\n' | awk '${MEASURE_AWK}'`, {
    D: dir,
  });
  const [entries, dataBytes, usedBytes, blocks] = out.trim().split(/\s+/).map(Number);
  return {
    entries: entries ?? 0,
    dataBytes: dataBytes ?? 0,
    usedBytes: usedBytes ?? 0,
    archiveBytes: ((blocks ?? 0) + 2) * 512,
  };
}

/** tar --totals: "Total bytes written: 123 (...)". */
export function totalsBytes(file: string): number | undefined {
  const m = /Total bytes written: (\d+)/.exec(readFileSync(file, 'utf8'));
  return m ? Number(m[1]) : undefined;
}
