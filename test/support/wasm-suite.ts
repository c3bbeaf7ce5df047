import { activeBackendName, probeBackend, useBackend, type BackendName } from '../../src/backends/index.js';

/**
 * The hooks of a suite that runs on wasm (call inside its `describe`): skipped where wasm is not
 * available, the backend active before restored after; with `activate`, wasm is selected before the
 * first test (else each test selects the backends it compares).
 */
export function onWasm({ activate }: { activate: boolean }): void {
  let previous: string | undefined;
  before(async function () {
    if (!(await probeBackend('wasm')).available) this.skip();
    previous = activeBackendName();
    if (activate) await useBackend('wasm');
  });
  after(async () => {
    if (previous) await useBackend(previous as BackendName);
  });
}
