// Deterministic names for everything pvmove creates (invariant 4): a re-run derives the same names
// from the claim and the migration id, and finds what an earlier run left behind.
import { createHash } from 'node:crypto';

/** Kubernetes label values and pod hostnames are limited to 63 characters. */
export const MAX_NAME = 63;

export function shortHash(text: string, length = 6): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/**
 * `${prefix}${base}${suffix}` if it fits in `max`, else the base is cut and a hash of the full base
 * keeps two long claims that share a prefix apart. The result never ends in '-' or '.'.
 */
export function fitName(prefix: string, base: string, suffix = '', max = MAX_NAME): string {
  const whole = `${prefix}${base}${suffix}`;
  if (whole.length <= max) return whole;
  const hash = `-${shortHash(base)}`;
  const room = max - prefix.length - suffix.length - hash.length;
  const cut = base.slice(0, Math.max(room, 0)).replace(/[-.]+$/, '');
  return `${prefix}${cut}${hash}${suffix}`;
}

/** The journal ConfigMap's name depends on the claim only, so a second run finds it (invariant 9). */
export function journalName(claim: string): string {
  return fitName('pvmove-', claim);
}

/** A batch's journal (several claims): found through the claims it holds (journal-store.ts). */
export function batchJournalName(migrationId: string): string {
  return `pvmove-batch-${migrationId}`;
}

export function targetClaimName(claim: string, migrationId: string): string {
  return fitName('', claim, `-pvmove-${migrationId}`);
}

export function copyPodName(claim: string, migrationId: string): string {
  return fitName('pvmove-copy-', claim, `-${migrationId}`);
}

/** Label values must be <= 63 characters; long claim names are cut and hashed the same way. */
export function claimLabelValue(claim: string): string {
  return fitName('', claim);
}

/** A migration id: short, lowercase, valid inside DNS names and label values. */
export function newMigrationId(random: () => number = Math.random): string {
  let id = '';
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  for (let i = 0; i < 8; i++) id += alphabet[Math.floor(random() * alphabet.length)] ?? 'x';
  // Start with a letter so the id is also a valid label/name start on its own.
  return `m${id.slice(1)}`;
}

export interface MigrationNames {
  migrationId: string;
  /** The claim these names are for. */
  claim: string;
  journal: string;
  targetClaim: string;
  copyPod: string;
}

/** The names of one claim of a migration; `journal` is the batch journal when the claim is in one. */
export function namesFor(claim: string, migrationId: string, journal = journalName(claim)): MigrationNames {
  return {
    migrationId,
    claim,
    journal,
    targetClaim: targetClaimName(claim, migrationId),
    copyPod: copyPodName(claim, migrationId),
  };
}
