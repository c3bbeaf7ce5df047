import assert from 'node:assert/strict';
import { execa } from 'execa';
import { defaultEnvironment, withoutDefaultedEnvironment } from '../../src/backends/environment-defaults.js';

describe("environment defaults keras-bridge gives libtensorflow (environment-defaults.ts)", () => {
  const names = ['KERAS_BRIDGE_TEST_DEFAULTED', 'KERAS_BRIDGE_TEST_USERS'];
  afterEach(() => names.forEach((name) => delete process.env[name]));

  it("sets a variable the user left unset, keeps the user's own, and gives children the user's environment", async () => {
    process.env['KERAS_BRIDGE_TEST_USERS'] = 'mine';
    defaultEnvironment('KERAS_BRIDGE_TEST_DEFAULTED', '1');
    defaultEnvironment('KERAS_BRIDGE_TEST_USERS', '1');
    assert.equal(process.env['KERAS_BRIDGE_TEST_DEFAULTED'], '1');
    assert.equal(process.env['KERAS_BRIDGE_TEST_USERS'], 'mine');
    assert.deepEqual(Object.keys(withoutDefaultedEnvironment()).filter((n) => names.includes(n)), ['KERAS_BRIDGE_TEST_DEFAULTED']);
    // As the Python exporter starts its child: the defaulted variable is gone there, the user's is not.
    const child = await execa(process.execPath, ['-e', 'console.log(JSON.stringify([process.env.KERAS_BRIDGE_TEST_DEFAULTED ?? null, process.env.KERAS_BRIDGE_TEST_USERS ?? null]))'], {
      env: { ...withoutDefaultedEnvironment() },
    });
    assert.deepEqual(JSON.parse(child.stdout), [null, 'mine']);
  });
});
