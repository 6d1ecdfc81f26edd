// The migration, in order. Ids are persisted in journals: never rename or reuse one. Later work
// (rollback, several claims, Block volumes, warm pre-copy) adds steps or separate itineraries
// around these ids.
import { copy } from './steps/copy.js';
import { finish } from './steps/finish.js';
import { preflight } from './steps/preflight.js';
import { recordJournal } from './steps/record-journal.js';
import { restoreReclaimPolicy, retainSourcePv, retainTargetPv } from './steps/reclaim.js';
import { scaleDown, scaleUp } from './steps/scale.js';
import { prebindTargetPv, recreateClaim, releaseClaims } from './steps/swap.js';
import { createTarget } from './steps/target.js';
import type { Step } from './step.js';

export const ITINERARY: readonly Step[] = [
  preflight, //               1. checks, nothing changes
  recordJournal, //           2. write down what undo needs
  retainSourcePv, //          3. source PV -> Retain
  scaleDown, //               4. owners to 0, wait until the claim is free
  createTarget, //            5. temporary claim + copy pod
  retainTargetPv, //          6. target PV bound -> Retain
  copy, //                    7. tar copy + verify
  releaseClaims, //           8. delete copy pod, both claims
  prebindTargetPv, //         9. claimRef namespace/name, no uid
  recreateClaim, //          10. same name, new PV
  restoreReclaimPolicy, //   11. target PV gets the source's original policy
  scaleUp, //                12. owners back, ready
  finish, //                 13. label source PV, journal finished
] as const;

export const STEP_IDS = ITINERARY.map((s) => s.id);
