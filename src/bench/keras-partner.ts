import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { ReferenceCannotRun, type AlternatingReference } from './timing.js';

/** The two ways a converted model's passes are compared with: Keras's tf.function forward, and forward+backward. */
export type PartnerWay = 'function_forward' | 'function_backward';

/** What the bench asks the partner for, and what a worker sends its parent to forward (bench-worker.ts). */
export type PartnerRequest =
  | { op: 'warm'; batch: number; way: PartnerWay; warmup_s: number }
  | { op: 'run'; batch: number; way: PartnerWay; runs: number };

/** The partner's reply: warm-up runs made, run times, or why Keras could not run it. */
export type PartnerReply = { runs: number } | { times_ms: number[] } | { error: string };

/** Where Keras's side of a model is: scripts/bench_keras.py, the models' module folder and the factory. */
export interface PartnerModel {
  python: string;
  script: string;
  modelsFile: string;
  factory: string;
  env?: Record<string, string | undefined>;
}

/**
 * Keras's model in a Python process kept for one model's cells (scripts/bench_keras.py --serve),
 * running its tf.function passes on request, so that a cell's runs can alternate with Keras's
 * (timing.ts, timedAlternating) instead of being divided by Keras figures from minutes before.
 * Requests go one at a time, in the order asked.
 */
export class KerasPartner {
  private readonly replies: AsyncIterator<string>;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, Readable>,
    private readonly exited: Promise<unknown>,
    readonly parameters: number,
    readonly weightBytes: number,
    replies: AsyncIterator<string>,
  ) {
    this.replies = replies;
  }

  /** Starts the process and waits for its model to be built (its first line). */
  static async start(model: PartnerModel, log: (line: string) => void = () => {}): Promise<KerasPartner> {
    const env = { ...process.env, ...model.env, TF_CPP_MIN_LOG_LEVEL: '3' };
    // Keys set to undefined are left out (withoutDefaultedEnvironment's way of unsetting them).
    const child = spawn(model.python, [model.script, '--path', path.dirname(model.modelsFile), '--serve', model.factory], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>,
    });
    const exited = new Promise((resolve) => child.once('close', resolve));
    // A process that fails to start, or ends, is reported by its replies ending, not by these events.
    child.once('error', () => undefined);
    child.stdin.on('error', () => undefined);
    const stderr: string[] = [];
    child.stderr.on('data', (chunk: Buffer) => {
      for (const line of String(chunk).split('\n')) {
        if (!line.trim()) continue;
        stderr.push(line);
        if (stderr.length > 20) stderr.shift();
        if (line.startsWith('Traceback') || /Error:/.test(line)) log(`  keras partner: ${line}`);
      }
    });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await lines.next();
    const ready = first.done ? undefined : parsedOrUndefined<{ ready?: boolean; parameters?: number; weight_bytes?: number }>(first.value);
    if (!ready?.ready) {
      child.kill();
      await exited;
      throw new Error(`the Keras partner for ${model.factory} did not start: ${stderr.slice(-3).join(' | ') || 'no output'}`);
    }
    return new KerasPartner(child, exited, ready.parameters ?? 0, ready.weight_bytes ?? 0, lines);
  }

  /** One request's reply (after the requests asked before it). */
  request(request: PartnerRequest): Promise<PartnerReply> {
    const next = this.queue.then(async () => {
      if (!this.child.stdin.writable) throw new Error('the Keras partner ended');
      this.child.stdin.write(JSON.stringify(request) + '\n');
      const line = await this.replies.next();
      if (line.done) throw new Error('the Keras partner ended');
      return JSON.parse(line.value) as PartnerReply;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Ends the process (its input closed) and waits for it. */
  async close(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
  }
}

function parsedOrUndefined<T>(line: string): T | undefined {
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}

/**
 * The reference a timing alternates with (timedAlternating), through `ask`: the partner itself in
 * the bench's process, or a message to it from a worker process (bench-worker.ts).
 */
export function partnerReference(ask: (request: PartnerRequest) => Promise<PartnerReply>, batch: number, way: PartnerWay): AlternatingReference {
  const reply = async (request: PartnerRequest) => {
    let r: PartnerReply;
    try {
      r = await ask(request);
    } catch (error) {
      throw new ReferenceCannotRun(`the Keras partner failed: ${(error as Error)?.message ?? String(error)}`);
    }
    if ('error' in r) throw new ReferenceCannotRun(r.error);
    return r;
  };
  return {
    warm: async (warmupS) => void (await reply({ op: 'warm', batch, way, warmup_s: warmupS })),
    run: async (runs) => {
      const r = await reply({ op: 'run', batch, way, runs });
      if (!('times_ms' in r)) throw new ReferenceCannotRun(`the Keras partner answered a run with ${JSON.stringify(r)}`);
      return r.times_ms;
    },
  };
}
