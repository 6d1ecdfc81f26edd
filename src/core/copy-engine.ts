// The copy engine port: how the data gets from the source claim to the target claim. The core
// creates the pod an engine describes, follows its log through the engine's own parser and acts on
// the report (progress, verdict, what an earlier copy turned out to be); it never learns how the
// engine copies. Engines live in src/engines/<name>/ (GNU tar today); a Block-device engine or an
// incremental one is a sibling folder behind this same interface. The CLI picks the engine.
import type { CopyOptions, Labels, NodeSelector, Pod, VerifyMode } from './types.js';

/** Everything an engine needs to describe its copy pod; the core derives it from the journal. */
export interface CopyPodRequest {
  name: string;
  namespace: string;
  labels: Labels;
  sourceClaim: string;
  targetClaim: string;
  /** The source PV's required node affinity: a local/hostPath volume is only reachable there. */
  sourceNodeAffinity?: NodeSelector;
  copy: CopyOptions;
  verify: VerifyMode;
  /** The source fingerprint an earlier run's copy recorded: the pod checks it before copying again. */
  expectFingerprint?: string;
  /**
   * 'warm': a pass while the application still runs (the source may change while it is read; the
   * final pass, made while it is stopped, copies what changed since). Default: the final copy.
   */
  pass?: CopyPass;
  /** The node the pod must run on: a ReadWriteOnce source in use can only be mounted there. */
  node?: string;
  /**
   * The final pass's pod created before the stop: it starts, mounts both volumes, and waits for the
   * go annotation (ANNOTATION_GO) before its script runs, so the downtime does not include a pod's
   * scheduling and start. Told to prepare first (GO_PREPARE), it runs the engine's read-ahead of
   * the source while the application still runs (the `prepare` an engine hands to copyPodSpec).
   */
  awaitGo?: boolean;
}

export type CopyPass = 'warm' | 'final';

/** What the copy pod said so far, folded from its log. Values only grow as more log is read. */
export interface CopyReport {
  totalBytes?: number;
  files?: number;
  usedBytes?: number;
  archiveRecords?: number;
  checkpointRecords?: number;
  checkpoint: number;
  copyDone: boolean;
  /** The verdict line: the copy is complete and verified (or verification was skipped on request). */
  verifyOk?: string;
  /** A warm pass's last line: the pass is over (nothing is verified while the source still changes). */
  warmDone?: string;
  error?: string;
  /** The last lines the copying tools printed on their own (errors such as "Permission denied"). */
  tarMessages: string[];
  /** A fingerprint of the source as it was copied: a later run checks it before relying on the copy. */
  fingerprint?: string;
  /** When an earlier run's copy was checked: whether it stands or is made again, and why. */
  earlierCopy?: { verdict: 'unchanged' | 'source-changed' | 'target-differs'; detail: string };
}

export interface ProgressSample {
  atMs: number;
  bytesDone: number;
}

export interface ProgressFigures {
  bytesDone: number;
  bytesTotal: number;
  percent: number;
  rateBytesPerSecond?: number;
  etaSeconds?: number;
}

export interface CopyEngine {
  readonly name: string;
  buildPod(r: CopyPodRequest): Pod;
  /**
   * A hash of what a re-run may change in the pod (image, placement, verification), or undefined
   * for a pod this engine did not make: a pending pod with another hash is replaced.
   */
  podHash(pod: Pod): string | undefined;
  emptyReport(): CopyReport;
  /** Folds log text into the report; safe to feed overlapping windows of the log. */
  readLog(report: CopyReport, log: string): CopyReport;
  /** Bytes done/total, rate and ETA over the samples, once the report allows an estimate. */
  progress(report: CopyReport, samples: ProgressSample[]): ProgressFigures | undefined;
}
