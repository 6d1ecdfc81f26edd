// Defaults in one place so the CLI help, the plan and the tests agree.
import type { CopyOptions, Timeouts } from './types.js';

/** Debian ships GNU tar with ACL/xattr support, bash, coreutils and findutils; the test bed preloads it. */
export const DEFAULT_IMAGE = 'docker.io/library/debian:12-slim';
export const DEFAULT_IMAGE_PULL_POLICY = 'IfNotPresent';

export const DEFAULT_COPY: CopyOptions = {
  image: DEFAULT_IMAGE,
  imagePullPolicy: DEFAULT_IMAGE_PULL_POLICY,
  tolerations: [],
  nodeSelector: {},
};

const MIN = 60_000;

/** Generous on purpose: a copy of millions of files takes hours (korb#193). */
export const DEFAULT_TIMEOUTS: Timeouts = {
  bindMs: 10 * MIN,
  startMs: 10 * MIN,
  copyMs: 24 * 60 * MIN,
  scaleMs: 10 * MIN,
  deleteMs: 5 * MIN,
  readyMs: 10 * MIN,
};

export const LABEL_PREFIX = 'pvmove.kubectl.io';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kubectl-pvmove';
export const LABEL_MIGRATION_ID = `${LABEL_PREFIX}/migration-id`;
export const LABEL_CLAIM = `${LABEL_PREFIX}/claim`;
export const LABEL_MIGRATED_TO = `${LABEL_PREFIX}/migrated-to`;
export const LABEL_ROLE = `${LABEL_PREFIX}/role`;
/** On a target PV a rollback kept because it may hold writes made after the move. */
export const LABEL_KEPT_BY_ROLLBACK = `${LABEL_PREFIX}/kept-by-rollback`;
/** On a copy pod: the run that created it (a pod this run made is followed, not checked again). */
export const LABEL_RUN_ID = `${LABEL_PREFIX}/run-id`;
/**
 * On a copy pod: `warm` for a warm pass (the application still running); `final` for the final pass's
 * pod created before the stop, which waits for ANNOTATION_GO; absent on a final copy started at once.
 */
export const LABEL_PASS = `${LABEL_PREFIX}/pass`;
/**
 * On a waiting final-pass pod (LABEL_PASS `final`), which sees it through a downward API volume
 * (within ~0.2 s on the test bed): GO_PREPARE just before the stop (the pod reads ahead what the
 * final pass will read), GO once the application is stopped (the pod starts copying).
 */
export const ANNOTATION_GO = `${LABEL_PREFIX}/go`;
export const GO = 'go';
export const GO_PREPARE = 'prepare';
/** Put on the target PV once the copy verified, so "copied" is observable on the cluster itself. */
export const ANNOTATION_COPIED = `${LABEL_PREFIX}/copied`;
export const ANNOTATION_MIGRATION = `${LABEL_PREFIX}/migration-id`;
export const ANNOTATION_SOURCE_CLAIM = `${LABEL_PREFIX}/source-claim`;

export const JOURNAL_KEY = 'journal.json';
