// The migration, in order, and its rollback: the same steps walked backwards, each one running its
// own undo steps. Ids are persisted in journals: never rename or reuse one. A new kind of step is
// one file in src/core/steps/ (forward action, postcondition, undo, plan) and one line here.
import { copy } from './steps/copy.js';
import { createTarget } from './steps/create-target.js';
import { finish } from './steps/finish.js';
import { prebindTargetPv } from './steps/prebind-target-pv.js';
import { preflight } from './steps/preflight.js';
import { recordJournal } from './steps/record-journal.js';
import { recreateClaim } from './steps/recreate-claim.js';
import { releaseClaims } from './steps/release-claims.js';
import { restoreReclaimPolicy } from './steps/restore-reclaim-policy.js';
import { retainSourcePv } from './steps/retain-source-pv.js';
import { rewriteTemplate } from './steps/rewrite-template.js';
import { retainTargetPv } from './steps/retain-target-pv.js';
import { scaleDown } from './steps/scale-down.js';
import { scaleUp } from './steps/scale-up.js';
import { warmCopy } from './steps/warm-copy.js';
import type { Step, UndoStep } from './step.js';

export const ITINERARY: readonly Step[] = [
  preflight, //               1. checks, nothing changes
  recordJournal, //           2. write down what undo needs
  retainSourcePv, //          3. source PV -> Retain
  warmCopy, //                --precopy: target claim + copy passes while the application runs
  scaleDown, //               4. owners to 0, wait until the claim is free
  createTarget, //            5. temporary claim + copy pod
  retainTargetPv, //          6. target PV bound -> Retain
  copy, //                    7. tar copy + verify
  releaseClaims, //           8. delete copy pod, both claims
  prebindTargetPv, //         9. claimRef namespace/name, no uid
  recreateClaim, //          10. same name, new PV
  rewriteTemplate, //        StatefulSet templates -> new class/size (batches of a whole StatefulSet)
  scaleUp, //                11. owners back, ready: the downtime ends here
  restoreReclaimPolicy, //   12. target PV gets the source's original policy (kept on Retain until now)
  finish, //                 13. label source PV, journal finished
] as const;

export const STEP_IDS = ITINERARY.map((s) => s.id);

/** The rollback: every step's undo steps, last step first (src/core/rollback.ts walks it). */
export function undoItinerary(steps: readonly Step[] = ITINERARY): UndoStep[] {
  return [...steps].reverse().flatMap((s) => s.undo ?? []);
}

export const UNDO_ITINERARY: readonly UndoStep[] = undoItinerary();
