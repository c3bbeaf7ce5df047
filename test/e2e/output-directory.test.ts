import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { CLI, REPO_ROOT } from '../support/paths.js';
import { runCli, type CliOptions } from '../support/run-cli.js';

const MODEL = path.join(REPO_ROOT, 'fixtures', 'keras', 'nested_sequential.keras');
const OTHER_MODEL = path.join(REPO_ROOT, 'fixtures', 'keras', 'recurrent.keras');
const NOBODY = 65534;

/** Every file under `dir` (dot files included) with a hash of its content: what must survive a refused or failed run. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const key = path.relative(dir, full);
    if (entry.isSymbolicLink()) result[key] = 'link';
    else if (entry.isDirectory()) result[key] = 'dir';
    else result[key] = createHash('sha256').update(await readFile(full)).digest('hex');
  }
  return result;
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.includes('.tmp-'));
}

/** A complete conversion: model.json, every shard it lists, the report. */
async function assertCompleteConversion(dir: string): Promise<string[]> {
  const modelJson = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
  assert.equal(modelJson.generatedBy, 'keras-bridge');
  const paths: string[] = modelJson.weightsManifest.flatMap((g: { paths: string[] }) => g.paths);
  for (const p of paths) assert.ok((await stat(path.join(dir, p))).isFile(), `${p} listed in model.json is missing`);
  assert.ok((await stat(path.join(dir, 'conversion-report.json'))).isFile());
  return paths;
}

describe('convert OUT_DIR: only its own output is replaced, failures and signals leave nothing behind', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-out-'));
  });
  afterEach(async () => {
    await chmod(tmp, 0o755).catch(() => {});
    for (const name of await readdir(tmp).catch(() => [])) await chmod(path.join(tmp, name), 0o755).catch(() => {});
    await rm(tmp, { recursive: true, force: true });
  });

  it('refuses a foreign directory, the current directory, the input and its directory (exit 2), touching nothing', async () => {
    // The other refusals (home, root, links, files, ...) are tested on refuseUnsafeOutput (test/tfjs-io/output-directory.test.ts).
    const work = path.join(tmp, 'work');
    await mkdir(work);
    const input = path.join(work, 'model.keras');
    await cp(MODEL, input);
    const foreign = path.join(tmp, 'photos');
    await mkdir(foreign);
    await writeFile(path.join(foreign, 'holiday.jpg'), 'precious');
    const before = await snapshot(tmp);
    const cases: Array<[string[], CliOptions, RegExp]> = [
      [['convert', input, foreign], {}, /it is a non-empty directory that is not a keras-bridge conversion/],
      [['convert', 'model.keras', '.'], { cwd: work }, /OUT_DIR \.: refusing to write there: it is the current directory/],
      [['convert', input, input], {}, /it is the input/],
      [['convert', input, work], {}, /it contains the input/],
    ];
    const results = await Promise.all(cases.map(([args, options]) => runCli(args, options)));
    results.forEach((r, i) => {
      const [args, , why] = cases[i]!;
      assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.stderr.includes(`OUT_DIR ${args[2]}: refusing to write there`), r.stderr);
      assert.match(r.stderr, why);
      assert.match(r.stderr, /Choose a new or empty directory for OUT_DIR/);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    });
    assert.deepEqual(await snapshot(tmp), before);
  });

  it('an unwritable location is an input error naming the path and the errno; the previous output stays intact', async function () {
    // chmod does not deny root: run the CLI as nobody then (skipped only if nobody cannot run it).
    const asUser: CliOptions = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
    const locked = path.join(tmp, 'locked');
    await mkdir(locked);
    const out = path.join(locked, 'out');
    if (asUser.uid !== undefined) {
      await chown(tmp, NOBODY, NOBODY);
      await chown(locked, NOBODY, NOBODY);
    }
    const first = await runCli(['convert', MODEL, out], asUser);
    if (asUser.uid !== undefined && first.exitCode !== 0 && !existsSync(out)) {
      this.skip(); // running as root, and user nobody cannot read the repository: chmod cannot deny anything here
    }
    assert.equal(first.exitCode, 0, first.stderr);
    const before = await snapshot(locked);

    await chmod(locked, 0o555); // the parent: no temporary directory can be made beside the output
    const parentLocked = await runCli(['convert', OTHER_MODEL, out], asUser);
    assert.equal(parentLocked.exitCode, 2, parentLocked.stderr);
    assert.match(parentLocked.stderr, new RegExp(`${out}: cannot write the output \\(EACCES on .*: permission denied\\)`));
    assert.doesNotMatch(parentLocked.stderr, /internal error/);
    await chmod(locked, 0o755);
    assert.deepEqual(await snapshot(locked), before);

    await chmod(out, 0o555); // the output itself: it could be moved aside but not removed
    const outLocked = await runCli(['convert', OTHER_MODEL, out], asUser);
    assert.equal(outLocked.exitCode, 2, outLocked.stderr);
    assert.match(outLocked.stderr, /replacing it means removing .*out, which is not writable \(EACCES\)/);
    await chmod(out, 0o755);
    assert.deepEqual(await snapshot(locked), before);
    assert.deepEqual(leftovers(locked), []);
  });

  it('fills an empty directory, sweeps dead runs\' temporaries; concurrent converts end with one complete conversion, nothing beside it', async () => {
    const out = path.join(tmp, 'out');
    await mkdir(out);
    // Temporaries of a killed run (its pid is dead) are removed; those of a live run never are.
    const dead = spawn(process.execPath, ['-e', '']);
    await once(dead, 'exit');
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    const busy = path.join(tmp, `.out.tmp-${live.pid}-d4e5f6`);
    let expected: Array<Record<string, string>>;
    try {
      const stale = path.join(tmp, `.out.tmp-${dead.pid}-a1b2c3`);
      await mkdir(stale);
      await writeFile(path.join(stale, 'group1-shard1of9.bin'), Buffer.alloc(1024));
      await mkdir(busy);
      const alone = path.join(tmp, 'alone');
      const [first, other] = await Promise.all([runCli(['convert', MODEL, out]), runCli(['convert', OTHER_MODEL, alone])]);
      assert.equal(first.exitCode, 0, first.stderr);
      assert.equal(other.exitCode, 0, other.stderr);
      assert.deepEqual(readdirSync(tmp).sort(), [path.basename(busy), 'alone', 'out']);
      expected = [await snapshot(out), await snapshot(alone)];
      await rm(alone, { recursive: true });
    } finally {
      live.kill();
    }
    await rm(busy, { recursive: true });

    // Two runs replacing the earlier conversion at once.
    const results = await Promise.all([OTHER_MODEL, MODEL].map((m) => runCli(['convert', m, out])));
    for (const r of results) assert.equal(r.exitCode, 0, r.stderr);
    await assertCompleteConversion(out);
    const files = await snapshot(out);
    assert.ok(expected.some((e) => JSON.stringify(e) === JSON.stringify(files)), 'OUT_DIR is exactly one of the two conversions');
    assert.deepEqual(readdirSync(tmp), ['out']);
  });

  describe('killed while writing a large model', () => {
    let bigModel: string;
    before(async function () {
      bigModel = path.join(await mkdtemp(path.join(os.tmpdir(), 'kb-big-')), 'big.keras');
      // About 96 MB of weights (six 2000×2000 Dense kernels): writing them takes long enough to be interrupted.
      const python = path.join(REPO_ROOT, '.venv', 'bin', 'python');
      await execa(python, ['-c', `import keras\nm = keras.Sequential([keras.Input((2000,))] + [keras.layers.Dense(2000) for _ in range(6)])\nm.save(${JSON.stringify(bigModel)})`], {
        env: { KERAS_BACKEND: 'tensorflow', TF_CPP_MIN_LOG_LEVEL: '3' },
      });
    });
    after(async () => rm(path.dirname(bigModel), { recursive: true, force: true }));

    it('SIGTERM: exit 143, the previous output intact, no .OUT.tmp-* left', async () => {
      const out = path.join(tmp, 'out');
      assert.equal((await runCli(['convert', MODEL, out])).exitCode, 0);
      const before = await snapshot(out);
      const child = spawn(process.execPath, [CLI, 'convert', bigModel, out], { stdio: 'ignore' });
      const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
      let sawTemporary = false;
      while (child.exitCode === null) {
        if (leftovers(tmp).length > 0) {
          sawTemporary = true;
          child.kill('SIGTERM');
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const [code] = await exited;
      assert.ok(sawTemporary, 'the conversion ended before its temporary directory was seen');
      assert.equal(code, 143);
      assert.deepEqual(readdirSync(tmp), ['out']);
      assert.deepEqual(await snapshot(out), before);
    });
  });
});
