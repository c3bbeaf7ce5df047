// Mocha's spec reporter, plus a JSON summary {passes, failures, pending} written when the run ends
// to the file named by KERAS_BRIDGE_MOCHA_SUMMARY; scripts/run-tests.mjs adds it to pytest's counts.
'use strict';
const fs = require('node:fs');
const Mocha = require('mocha');

const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const file = process.env.KERAS_BRIDGE_MOCHA_SUMMARY;
      if (!file) return;
      const { passes, failures, pending } = runner.stats;
      fs.writeFileSync(file, JSON.stringify({ passes, failures, pending }) + '\n');
    });
  }
}

module.exports = SummaryReporter;
