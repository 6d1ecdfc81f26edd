// The benchmark's datasets, written straight into a directory on the node (a claim's hostPath PV
// directory). Contents are incompressible and sizes come from a seeded generator, so every run and
// every machine gets the same tree for the same scale.
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { chownSync, closeSync, linkSync, mkdirSync, openSync, symlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

export type DatasetName = 'large' | 'small' | 'mixed';
export const DATASETS: readonly DatasetName[] = ['large', 'small', 'mixed'];

export interface DatasetSummary {
  name: DatasetName;
  description: string;
  /** Regular-file bytes (apparent size; a sparse file counts its length). */
  bytes: number;
  /** Entries of every kind (files, dirs, links) below the root. */
  entries: number;
  files: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** A small deterministic PRNG (mulberry32): same tree for the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 64 MiB of random bytes, reused at shifting offsets: incompressible, cheap to produce. */
const pool = randomFillSync(Buffer.alloc(64 * MiB));

function writeRandom(file: string, size: number, offsetSeed: number): void {
  const fd = openSync(file, 'w', 0o644);
  try {
    let left = size;
    let off = (offsetSeed * 4099) % (pool.length / 2);
    while (left > 0) {
      const n = Math.min(left, 8 * MiB, pool.length - off);
      writeSync(fd, pool, off, n);
      left -= n;
      off = (off + n + 4096) % (pool.length / 2);
    }
  } finally {
    closeSync(fd);
  }
}

class Counter {
  bytes = 0;
  entries = 0;
  files = 0;
  file(size: number): void {
    this.bytes += size;
    this.entries++;
    this.files++;
  }
}

function mkdirs(c: Counter, dir: string): void {
  mkdirSync(dir);
  c.entries++;
}

/** (a) A few large files: default 2 GiB in 4 files. */
function large(root: string, scale: number, c: Counter): string {
  const files = 4;
  const each = Math.max(MiB, Math.round((2 * GiB * scale) / files / MiB) * MiB);
  for (let i = 0; i < files; i++) {
    writeRandom(path.join(root, `large-${i}.bin`), each, i + 1);
    c.file(each);
  }
  return `${files} files of ${each / MiB} MiB`;
}

/**
 * Many small files of 1-16 KiB in a deep tree (default 200,000): 4 levels of directories, about
 * 20 files per leaf directory, as a mail spool, a package cache or a git object store looks.
 */
function smallTree(root: string, count: number, rnd: () => number, c: Counter, prefix = 's'): void {
  const perLeaf = 20;
  const leaves = Math.max(1, Math.ceil(count / perLeaf));
  const fan = Math.max(2, Math.ceil(Math.pow(leaves, 1 / 4)));
  const made = new Set<string>();
  let written = 0;
  for (let leaf = 0; written < count; leaf++) {
    const parts = [0, 1, 2, 3].map((l) => `${prefix}${Math.floor(leaf / Math.pow(fan, 3 - l)) % fan}`);
    let dir = root;
    for (const p of parts) {
      dir = path.join(dir, p);
      if (!made.has(dir)) {
        mkdirs(c, dir);
        made.add(dir);
      }
    }
    for (let i = 0; i < perLeaf && written < count; i++, written++) {
      const size = 1024 + Math.floor(rnd() * 15 * 1024);
      writeRandom(path.join(dir, `f${i}.dat`), size, written);
      c.file(size);
    }
  }
}

function small(root: string, scale: number, c: Counter): string {
  const count = Math.max(100, Math.round(200_000 * scale));
  smallTree(root, count, prng(7), c);
  return `${count} files of 1-16 KiB, 4 directory levels`;
}

/**
 * (c) What a real application volume looks like: medium files, a small-file tree, hardlinks (a
 * backup store), sparse files (VM images, databases' preallocated files), symlinks, several owners.
 */
function mixed(root: string, scale: number, c: Counter): string {
  const rnd = prng(11);
  mkdirs(c, path.join(root, 'media'));
  const medium = Math.max(4, Math.round(200 * scale));
  for (let i = 0; i < medium; i++) {
    const size = MiB + Math.floor(rnd() * 3 * MiB);
    const f = path.join(root, 'media', `m${i}.bin`);
    writeRandom(f, size, i + 100);
    c.file(size);
    if (i % 3 === 0) chownSync(f, 1000 + (i % 7), 1000);
  }
  mkdirs(c, path.join(root, 'tree'));
  const smallCount = Math.max(100, Math.round(20_000 * scale));
  smallTree(path.join(root, 'tree'), smallCount, rnd, c, 't');
  // Hardlinks: a snapshot directory whose files are links to the tree's files.
  mkdirs(c, path.join(root, 'snapshot'));
  const links = Math.max(10, Math.round(5_000 * scale));
  for (let i = 0; i < links; i++) {
    const leaf = Math.floor(i / 20);
    linkSync(
      path.join(root, 'tree', ...leafParts(leaf, smallCount, 't'), `f${i % 20}.dat`),
      path.join(root, 'snapshot', `l${i}`),
    );
    c.entries++;
  }
  // Sparse files: 256 MiB long, 4 MiB of data in 4 extents.
  mkdirs(c, path.join(root, 'images'));
  const sparse = Math.max(2, Math.round(16 * scale));
  for (let i = 0; i < sparse; i++) {
    const f = path.join(root, 'images', `disk${i}.img`);
    const fd = openSync(f, 'w', 0o640);
    for (let k = 0; k < 4; k++) writeSync(fd, pool, k * MiB, MiB, k * 64 * MiB + i * 4096);
    closeSync(fd);
    execFileSync('truncate', ['-s', String(256 * MiB), f]);
    c.file(256 * MiB);
  }
  // Symlinks, relative and dangling.
  for (let i = 0; i < 100; i++) {
    symlinkSync(
      i % 10 === 0 ? `/nonexistent/${i}` : `../media/m${i % medium}.bin`,
      path.join(root, 'images', `ln${i}`),
    );
    c.entries++;
  }
  return `${medium} files of 1-4 MiB, ${smallCount} small files, ${links} hardlinks, ${sparse} sparse files of 256 MiB (4 MiB data), 100 symlinks`;
}

/** The directory parts of leaf `leaf` in smallTree, to find a file again. */
function leafParts(leaf: number, count: number, prefix: string): string[] {
  const leaves = Math.max(1, Math.ceil(count / 20));
  const fan = Math.max(2, Math.ceil(Math.pow(leaves, 1 / 4)));
  return [0, 1, 2, 3].map((l) => `${prefix}${Math.floor(leaf / Math.pow(fan, 3 - l)) % fan}`);
}

/** Writes dataset `name` at `scale` (1 = the full size) into the existing, empty directory `root`. */
export function generate(name: DatasetName, root: string, scale: number): DatasetSummary {
  const c = new Counter();
  const description =
    name === 'large'
      ? large(root, scale, c)
      : name === 'small'
        ? small(root, scale, c)
        : mixed(root, scale, c);
  return { name, description, bytes: c.bytes, entries: c.entries, files: c.files };
}
