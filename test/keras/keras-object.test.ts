import assert from 'node:assert/strict';
import { isKerasObject, kerasObjectSchema } from '../../src/keras/keras-object.js';
import { generator } from '../support/heap-cases.js';

// isKerasObject is checked by hand for speed; it must answer as the zod schema does.
describe('isKerasObject: the same answers as kerasObjectSchema', () => {
  const pick = generator(4242);
  const anything = (depth: number): unknown => {
    const choices: Array<() => unknown> = [
      () => undefined,
      () => null,
      () => 'text',
      () => 3,
      () => true,
      () => [],
      () => ['a', 1],
      () => new Date(0),
      () => new Map(),
      () => new Set(),
      () => () => 1,
      () => Object.create(null) as object,
      () => ({}),
      () => ({ a: 1 }),
      () => (depth > 0 ? kerasLike(depth - 1) : {}),
    ];
    return choices[pick(choices.length)]!();
  };
  const kerasLike = (depth: number): Record<string, unknown> => {
    const value: Record<string, unknown> = {};
    const fields = ['module', 'class_name', 'config', 'registered_name', 'build_config', 'compile_config'];
    for (const field of fields) {
      const roll = pick(4);
      if (roll === 0) continue; // absent
      if (roll === 1) value[field] = anything(depth);
      else value[field] = field === 'class_name' || field === 'module' || field === 'registered_name' ? `Name${pick(9)}` : { units: pick(9) };
    }
    if (pick(3) === 0) value['extra'] = anything(depth);
    return value;
  };

  it('on 3,000 generated values (keras-like objects with each field right, wrong or absent, and everything else)', () => {
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const value = i % 3 === 0 ? anything(2) : kerasLike(2);
      const expected = kerasObjectSchema.safeParse(value).success;
      assert.equal(isKerasObject(value), expected, `value ${i}: ${String(JSON.stringify(value))}`);
      if (expected) accepted++;
    }
    assert.ok(accepted > 50 && accepted < 2900, `${accepted} accepted: both answers are exercised`);
  });

  it('a layer as Keras 3 writes it, and near misses', () => {
    const dense = { module: 'keras.layers', class_name: 'Dense', config: { units: 3 }, registered_name: null, build_config: { input_shape: [null, 4] } };
    assert.equal(isKerasObject(dense), true);
    assert.equal(isKerasObject({ ...dense, class_name: 3 }), false);
    assert.equal(isKerasObject({ ...dense, config: [] }), false);
    assert.equal(isKerasObject({ ...dense, module: 1 }), false);
    assert.equal(isKerasObject({ ...dense, build_config: 'x' }), false);
    assert.equal(isKerasObject([dense]), false);
  });
});
