import { activeBackendName, probeBackend, useBackend, type BackendName } from '../../src/backends/index.js';

/**
 * Mocha hooks (call inside a `describe`, before the suite's own `before`) that put back, after the
 * suite, the backend that was active before it: a suite that switches backends leaves the next
 * suite where it found it.
 */
export function restoresBackend(): void {
  let previous: string | undefined;
  before(() => {
    previous = activeBackendName();
  });
  after(async () => {
    if (previous) await useBackend(previous as BackendName);
  });
}

/**
 * The hooks of a suite that runs on `backend`: skipped where it is not available, the backend
 * active before restored after; with `activate` (the default) `backend` is selected before the
 * first test, else each test selects the backends it compares.
 */
export function onBackend(backend: BackendName, { activate = true }: { activate?: boolean } = {}): void {
  before(async function () {
    if (!(await probeBackend(backend)).available) this.skip();
  });
  restoresBackend();
  before(async () => {
    if (activate) await useBackend(backend);
  });
}

/** A suite on the cpu backend (always available). */
export const onCpu = (): void => onBackend('cpu');

/** A suite on wasm; see onBackend for `activate`. */
export const onWasm = ({ activate }: { activate: boolean }): void => onBackend('wasm', { activate });
