import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { InputError } from '../../src/errors.js';
import { sweepStaleTemporaries, writeDirectoryAtomically } from '../../src/tfjs-io/atomic-directory.js';
import { CONVERSION_OUTPUT } from '../../src/tfjs-io/model-directory.js';

describe('writeDirectoryAtomically', () => {
  let parent: string;
  let target: string;
  beforeEach(async () => {
    parent = await mkdtemp(path.join(os.tmpdir(), 'kb-atomic-'));
    target = path.join(parent, 'model');
    await mkdir(target);
    await writeFile(path.join(target, 'model.json'), 'old');
  });
  afterEach(async () => rm(parent, { recursive: true, force: true }));

  it('replaces an existing directory and leaves nothing beside it', async () => {
    await writeDirectoryAtomically(target, (tmp) => writeFile(path.join(tmp, 'model.json'), 'new'));
    assert.equal(await readFile(path.join(target, 'model.json'), 'utf8'), 'new');
    assert.deepEqual(await readdir(parent), ['model']);
  });

  it('puts the old directory back when the new one cannot be renamed into place', async () => {
    // Removing the temporary directory makes the second rename (temporary → target) fail with
    // ENOENT, after the first has moved the old target aside.
    await assert.rejects(
      writeDirectoryAtomically(target, (tmp) => rm(tmp, { recursive: true })),
      (e: NodeJS.ErrnoException) => e.code === 'ENOENT',
    );
    assert.equal(await readFile(path.join(target, 'model.json'), 'utf8'), 'old');
    assert.deepEqual(await readdir(parent), ['model']);
  });

  it('leaves an existing directory untouched when writing fails', async () => {
    await assert.rejects(writeDirectoryAtomically(target, async () => Promise.reject(new Error('disk full'))), /disk full/);
    assert.equal(await readFile(path.join(target, 'model.json'), 'utf8'), 'old');
    assert.deepEqual(await readdir(parent), ['model']);
  });
});

describe('writeDirectoryAtomically: policies, stale temporaries, concurrency, signals', () => {
  let parent: string;
  let target: string;
  beforeEach(async () => {
    parent = await mkdtemp(path.join(os.tmpdir(), 'kb-atomic-'));
    target = path.join(parent, 'model');
  });
  afterEach(async () => rm(parent, { recursive: true, force: true }));

  const writeModel = (text: string) => async (tmp: string) => {
    await writeFile(path.join(tmp, 'model.json'), JSON.stringify({ generatedBy: 'keras-bridge', text }));
    await writeFile(path.join(tmp, 'conversion-report.json'), '{}');
  };

  it('replaces an earlier conversion but refuses a foreign directory, a file and the input it came from', async () => {
    await writeDirectoryAtomically(target, writeModel('first'), { policy: CONVERSION_OUTPUT });
    await writeDirectoryAtomically(target, writeModel('second'), { policy: CONVERSION_OUTPUT });
    assert.match(await readFile(path.join(target, 'model.json'), 'utf8'), /second/);

    const foreign = path.join(parent, 'notes');
    await mkdir(foreign);
    await writeFile(path.join(foreign, 'model.json'), '{"generatedBy": "someone else"}');
    await assert.rejects(writeDirectoryAtomically(foreign, writeModel('x'), { policy: CONVERSION_OUTPUT }), (e: Error) =>
      e instanceof InputError && /OUT_DIR .*notes: refusing to write there: it is a non-empty directory that is not a keras-bridge conversion.*Choose a new or empty directory/.test(e.message),
    );
    const file = path.join(parent, 'file');
    await writeFile(file, 'keep');
    await assert.rejects(writeDirectoryAtomically(file, writeModel('x'), { policy: CONVERSION_OUTPUT }), /it exists and is not a directory/);
    const input = path.join(target, 'input.keras');
    await writeFile(input, 'zip');
    await assert.rejects(writeDirectoryAtomically(target, writeModel('x'), { policy: CONVERSION_OUTPUT, inputs: [input] }), /it contains the input/);
    assert.equal(await readFile(path.join(foreign, 'model.json'), 'utf8'), '{"generatedBy": "someone else"}');
    assert.equal(await readFile(file, 'utf8'), 'keep');
    assert.deepEqual((await readdir(parent)).sort(), ['file', 'model', 'notes']);
  });

  it('maps an error of the location to an InputError naming the path and the errno', async () => {
    await writeFile(path.join(parent, 'file'), 'in the way');
    const inside = path.join(parent, 'file', 'model');
    await assert.rejects(writeDirectoryAtomically(inside, writeModel('x')), (e: Error) => e instanceof InputError && e.message.includes(inside) && /(ENOTDIR|EEXIST) on .*file: a file is in the way/.test(e.message));
  });

  it('removes the temporaries of dead writers, puts back an output one had moved aside, and leaves a live writer\'s alone', async () => {
    const dead = await deadPid();
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await mkdir(path.join(parent, `.model.tmp-${dead}-abc123`));
      await writeFile(path.join(parent, `.model.tmp-${dead}-abc123`, 'partial.bin'), 'x');
      await mkdir(path.join(parent, `.model.tmp-${dead}-abc123.old`));
      await writeFile(path.join(parent, `.model.tmp-${dead}-abc123.old`, 'model.json'), JSON.stringify({ generatedBy: 'keras-bridge', text: 'previous' }));
      await mkdir(path.join(parent, `.model.tmp-${live.pid}-def456`));
      // The dead writer had moved the previous output aside and died: it is put back first...
      sweepStaleTemporaries(target);
      assert.match(await readFile(path.join(target, 'model.json'), 'utf8'), /previous/);
      assert.deepEqual((await readdir(parent)).sort(), [`.model.tmp-${live.pid}-def456`, 'model']);
      // ... and then replaced as usual.
      await writeDirectoryAtomically(target, writeModel('new'), { policy: CONVERSION_OUTPUT });
      assert.match(await readFile(path.join(target, 'model.json'), 'utf8'), /new/);
      assert.deepEqual((await readdir(parent)).sort(), [`.model.tmp-${live.pid}-def456`, 'model']);
    } finally {
      live.kill();
    }
  });

  it('concurrent writes to one target end with one complete directory and nothing beside it', async () => {
    await writeDirectoryAtomically(target, writeModel('first'), { policy: CONVERSION_OUTPUT });
    const writes = Array.from({ length: 8 }, (_, i) =>
      writeDirectoryAtomically(
        target,
        async (tmp) => {
          await writeModel(`writer ${i}`)(tmp);
          await writeFile(path.join(tmp, 'weights.bin'), Buffer.alloc(1 << 16, i));
        },
        { policy: CONVERSION_OUTPUT },
      ),
    );
    await Promise.all(writes);
    const text = JSON.parse(await readFile(path.join(target, 'model.json'), 'utf8')).text as string;
    const writer = Number(/writer (\d)/.exec(text)![1]);
    assert.deepEqual(await readFile(path.join(target, 'weights.bin')), Buffer.alloc(1 << 16, writer));
    assert.deepEqual(await readdir(parent), ['model']);
  });

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`removes its temporary directory on ${signal} and exits ${code}, the previous output intact`, async () => {
      await writeDirectoryAtomically(target, writeModel('previous'), { policy: CONVERSION_OUTPUT });
      const module = new URL('../../src/tfjs-io/atomic-directory.js', import.meta.url).href;
      // A writer that never finishes: the signal arrives while its temporary directory is half full.
      const script = `import { writeDirectoryAtomically } from ${JSON.stringify(module)};
        import { writeFileSync } from 'node:fs';
        await writeDirectoryAtomically(${JSON.stringify(target)}, async (tmp) => {
          writeFileSync(tmp + '/half.bin', 'x');
          process.stdout.write('writing\\n');
          await new Promise(() => setInterval(() => {}, 1000));
        });`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      assert.equal((await readdir(parent)).filter((n) => n.includes('.tmp-')).length, 1);
      child.kill(signal);
      const [exitCode] = (await once(child, 'exit')) as [number | null];
      assert.equal(exitCode, code);
      assert.deepEqual(await readdir(parent), ['model']);
      assert.match(await readFile(path.join(target, 'model.json'), 'utf8'), /previous/);
    });
  }
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}
