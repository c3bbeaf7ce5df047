import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { PartnerReply, PartnerRequest } from './partner-reference.js';

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

  /**
   * A request forwarded from elsewhere (a worker's message, a page's call): its reply, or, where
   * the partner fails, an error reply saying so (never a rejection, which the asker cannot see).
   */
  answer(request: unknown): Promise<PartnerReply> {
    return this.request(request as PartnerRequest).catch((error: unknown) => ({ error: `the Keras partner failed: ${(error as Error)?.message ?? String(error)}` }));
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
