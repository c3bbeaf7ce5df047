import { activeBackendName, useBackend, type BackendName } from '../../src/backends/index.js';

/** Mocha hooks for a suite that runs on the cpu backend: selected before its first test, the backend active before restored after. */
export function onCpu(): void {
  let previous: string | undefined;
  before(async () => {
    previous = activeBackendName();
    await useBackend('cpu');
  });
  after(async () => {
    if (previous) await useBackend(previous as BackendName);
  });
}
