// One shard of the crash matrix: test/helpers/crash-matrix.ts holds the points, the assertions and
// how the points are dealt over the crash-matrix-<n>.test.ts files (so they run in parallel lanes).
import { describeCrashMatrix } from '../helpers/crash-matrix.js';

describeCrashMatrix(import.meta.filename);
