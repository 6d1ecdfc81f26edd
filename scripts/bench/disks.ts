// The copy bench's disk profiles: the test bed's own disk ("local"), or that disk read through
// slowfs (scripts/testbed/slowfs: a FUSE passthrough that waits a fixed time before answering each
// read request, and for nfs-* each open and lookup), as a network volume answers: `net-1ms`,
// `net-5ms`, `nfs-1ms`, `net-0ms` (the FUSE layer alone); see parseDisk. Only the source of a copy is emulated: for a slow profile the dataset is
// written into a backing directory, and slowfs mounts it on the source claim's own hostPath PV
// directory, so the copy pod (through its hostPath volume) and the node tools read the same mount;
// every target stays on the local disk.
//
// Mounts and processes: every mount is recorded in STATE_DIR/mounts/<n>.json (mount point, pid
// file, log) before slowfs starts; it is unmounted by its path (`umount`), and its slowfs process is
// stopped by the pid in its pid file (and only if that pid still runs slowfs) — at the end of each
// run, in `finally`, on exit and on SIGINT/SIGTERM, and at the start of the next bench for records
// a crashed one left behind.
import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { DatasetName } from './datasets.js';

const root = path.resolve(import.meta.dirname, '../..');
/** On the same filesystem as the test bed's hostPath PVs (/tmp/hostpath_pv), as the datasets were. */
export const STATE_DIR = '/tmp/pvmove-bench-slowfs';
const MOUNTS_DIR = path.join(STATE_DIR, 'mounts');

export interface DiskProfile {
  /** As given on the command line: `local`, `net-1ms`, ... */
  name: string;
  /** Read through slowfs (false: the local disk as it is). */
  slow: boolean;
  readDelayMs: number;
  openDelayMs: number;
  lookupDelayMs: number;
  /**
   * How long the kernel may cache entries and attributes (slowfs -cache-timeout): a block volume's
   * filesystem keeps its inodes and directories in memory like a local one (the kernel's own caches,
   * on the node), a network filesystem asks its server again after a short while.
   */
  cacheTimeoutS: number;
  /** The kernel keeps directory listings too (slowfs -cache-dirs), until a directory changes. */
  cacheDirs: boolean;
  /** Each dataset's scale on this profile when --scale is 1 (small files on a 5 ms disk at full size take hours). */
  scales: Record<DatasetName, number>;
  description: string;
}

/**
 * `local`, `net-<N>ms` or `nfs-<N>ms` (N >= 0, decimals allowed):
 *
 * - `net-<N>ms`, a block network volume (EBS, Persistent Disk, Ceph RBD, Longhorn): N ms before
 *   each read request, i.e. each page-cache miss of file data. Metadata (lookups, opens, stat) costs
 *   only the FUSE round trip: the backing ext4 reads its inodes and directories from the local
 *   disk, so a cold walk of the tree is faster here than on a real block network volume (where
 *   those blocks are misses too, though 16 inodes share one). Entries, attributes and directory
 *   listings stay cached (an hour; listings until the directory changes), as a block volume's ext4
 *   keeps them on the node; until 2026-12-03 entries and attributes lasted 1 s and listings were
 *   never kept, which sent every walk of the tree back through FUSE (a warm find of 26,526 entries:
 *   0.52 s, 0.16-0.23 s now, 0.07 s on the local disk: opening a directory still asks the daemon).
 * - `nfs-<N>ms`, a network filesystem: N ms also before each open (close-to-open consistency asks
 *   the server on every open, cached data or not) and each lookup of a name the kernel has not
 *   cached (the entry cache lasts 1 s).
 *
 * A slow profile's scales keep a serial reader (tar, cp, rsync) near 10-40 s per dataset: on
 * net-1ms a small file costs it about 3 ms (one read miss and the FUSE round trips), 128 KiB of a
 * large file about 0.5 ms (the kernel's readahead keeps about two requests in flight). At 1 ms:
 * large 0.5 (1 GiB), small 0.05 (10,000 files), mixed 0.1 (2,000 small files, 20 medium, 2 sparse);
 * nfs halves small and mixed.
 */
export function parseDisk(spec: string): DiskProfile {
  if (spec === 'local')
    return {
      name: spec,
      slow: false,
      readDelayMs: 0,
      openDelayMs: 0,
      lookupDelayMs: 0,
      cacheTimeoutS: 0,
      cacheDirs: false,
      scales: { large: 1, small: 1, mixed: 1 },
      description: 'the test bed disk',
    };
  const m = /^(net|nfs)-(\d+(?:\.\d+)?)ms$/.exec(spec);
  if (!m) throw new Error(`unknown disk profile ${spec}: local, net-<N>ms or nfs-<N>ms (e.g. net-1ms)`);
  const nfs = m[1] === 'nfs';
  const ms = Number(m[2]);
  const perFile = nfs ? 2 : 1;
  return {
    name: spec,
    slow: true,
    readDelayMs: ms,
    openDelayMs: nfs ? ms : 0,
    lookupDelayMs: nfs ? ms : 0,
    cacheTimeoutS: nfs ? 1 : 3600,
    cacheDirs: !nfs,
    scales: {
      large: Math.min(1, 0.5 / ms),
      small: Math.min(1, 0.05 / ms / perFile),
      mixed: Math.min(1, 0.1 / ms / perFile),
    },
    description: nfs
      ? `slowfs: ${ms} ms per read request, per open and per uncached lookup (a network filesystem)`
      : `slowfs: ${ms} ms per read request (a block network volume: each page-cache miss of file data)`,
  };
}

let binary: string | undefined;
/** Builds slowfs if it is not cached yet; its path. */
export function slowfsBinary(): string {
  binary ??= execFileSync('bash', [path.join(root, 'scripts/testbed/slowfs/build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  return binary;
}

interface MountRecord {
  mountPoint: string;
  backing: string;
  pidFile: string;
  log: string;
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function mounted(mountPoint: string): boolean {
  // /proc/self/mounts escapes spaces etc. as octal; our paths have none.
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === mountPoint);
}

/** The pid in the record's pid file, if that process is alive and is slowfs. */
function slowfsPid(rec: MountRecord): number | undefined {
  if (!existsSync(rec.pidFile)) return undefined;
  const pid = Number(readFileSync(rec.pidFile, 'utf8').trim());
  if (!(pid > 0)) return undefined;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return path.basename(cmd[0] ?? '') === 'slowfs' && cmd.includes(rec.mountPoint) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Unmounts by path, then waits for the recorded slowfs pid to exit (SIGTERM, then SIGKILL, by pid). */
function release(recFile: string, log: (s: string) => void): void {
  const rec = JSON.parse(readFileSync(recFile, 'utf8')) as MountRecord;
  for (let i = 0; mounted(rec.mountPoint); i++) {
    try {
      execFileSync('umount', [rec.mountPoint], { stdio: 'pipe' });
    } catch (err) {
      if (i >= 20) {
        log(`umount ${rec.mountPoint} still failing (${String(err).split('\n')[0]}): lazy unmount`);
        execFileSync('umount', ['-l', rec.mountPoint], { stdio: 'pipe' });
      } else sleep(250);
    }
  }
  const pid = slowfsPid(rec);
  if (pid !== undefined) {
    for (let i = 0; i < 40 && slowfsPid(rec) !== undefined; i++) sleep(50);
    for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
      if (slowfsPid(rec) === undefined) break;
      process.kill(pid, sig);
      for (let i = 0; i < 40 && slowfsPid(rec) !== undefined; i++) sleep(50);
    }
  }
  rmSync(rec.pidFile, { force: true });
  rmSync(recFile, { force: true });
}

let counter = 0;

/** Mounts of one bench process: what it mounted, and only that, is released. */
export class SlowMounts {
  private readonly mine = new Map<string, string>(); // mount point -> record file

  constructor(private readonly log: (s: string) => void) {
    mkdirSync(MOUNTS_DIR, { recursive: true });
  }

  /** Records a crashed bench left behind (by their record files): unmounted, their slowfs stopped. */
  static releaseStale(log: (s: string) => void): void {
    if (!existsSync(MOUNTS_DIR)) return;
    for (const f of readdirSync(MOUNTS_DIR).filter((n) => n.endsWith('.json'))) {
      log(`releasing a mount left by an earlier bench: ${f}`);
      const logFile = path.join(MOUNTS_DIR, f.replace(/\.json$/, '.log'));
      release(path.join(MOUNTS_DIR, f), log);
      rmSync(logFile, { force: true });
    }
  }

  /** Serves `backing` on the existing, empty directory `mountPoint` with the profile's delays. */
  async mount(disk: DiskProfile, backing: string, mountPoint: string): Promise<void> {
    const id = `${process.pid}-${++counter}`;
    const rec: MountRecord = {
      mountPoint,
      backing,
      pidFile: path.join(MOUNTS_DIR, `${id}.pid`),
      log: path.join(MOUNTS_DIR, `${id}.log`),
    };
    const recFile = path.join(MOUNTS_DIR, `${id}.json`);
    writeFileSync(recFile, JSON.stringify(rec));
    this.mine.set(mountPoint, recFile);
    const out = openSync(rec.log, 'a');
    try {
      const child = spawn(
        slowfsBinary(),
        [
          '-backing',
          backing,
          '-mount',
          mountPoint,
          '-read-delay',
          `${disk.readDelayMs}ms`,
          '-open-delay',
          `${disk.openDelayMs}ms`,
          '-lookup-delay',
          `${disk.lookupDelayMs}ms`,
          '-cache-timeout',
          `${disk.cacheTimeoutS}s`,
          ...(disk.cacheDirs ? ['-cache-dirs'] : []),
          '-pid-file',
          rec.pidFile,
        ],
        { detached: true, stdio: ['ignore', out, out] },
      );
      child.unref();
      const start = Date.now();
      while (!(mounted(mountPoint) && existsSync(rec.pidFile))) {
        if (child.exitCode !== null || Date.now() - start > 15_000)
          throw new Error(`slowfs did not mount ${mountPoint}: ${readFileSync(rec.log, 'utf8')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      closeSync(out);
    }
  }

  unmount(mountPoint: string): void {
    const recFile = this.mine.get(mountPoint);
    if (!recFile) return;
    const rec = JSON.parse(readFileSync(recFile, 'utf8')) as MountRecord;
    release(recFile, this.log);
    const served = readFileSync(rec.log, 'utf8').trim().split('\n').pop() ?? '';
    rmSync(rec.log, { force: true });
    this.mine.delete(mountPoint);
    this.log(`unmounted ${mountPoint}: ${served.replace(/^slowfs: /, '')}`);
  }

  unmountAll(): void {
    for (const m of [...this.mine.keys()]) this.unmount(m);
  }
}

/** A backing directory for a slow profile's copy of claim `claim` in namespace `ns`. */
export function backingDir(ns: string, claim: string): string {
  const dir = path.join(STATE_DIR, ns, claim);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function removeBacking(ns: string): void {
  rmSync(path.join(STATE_DIR, ns), { recursive: true, force: true });
}
