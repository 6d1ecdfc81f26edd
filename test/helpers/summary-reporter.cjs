// Mocha's spec reporter plus the plain closing line `N passed, N failed` that CI reads.
// CommonJS because mocha loads reporters with require().
'use strict';
const Mocha = require('mocha');
const { EVENT_RUN_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    runner.on(EVENT_TEST_PASS, () => passed++);
    runner.on(EVENT_TEST_FAIL, () => failed++);
    runner.on(EVENT_TEST_PENDING, () => skipped++);
    runner.once(EVENT_RUN_END, () => {
      const line = `${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : '');
      // Written after the spec summary; a file lets scripts/test.sh add up several mocha runs.
      if (process.env.PVMOVE_SUMMARY_FILE) {
        require('node:fs').appendFileSync(
          process.env.PVMOVE_SUMMARY_FILE,
          `${passed} ${failed} ${skipped}\n`,
        );
      } else {
        process.stdout.write(`\n${line}\n`);
      }
    });
  }
}

module.exports = SummaryReporter;
