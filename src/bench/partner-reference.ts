import { ReferenceCannotRun, type AlternatingReference } from './timing.js';

/** The two ways a converted model's passes are compared with: Keras's tf.function forward, and forward+backward. */
export type PartnerWay = 'function_forward' | 'function_backward';

/** What the bench asks the partner for, and what a worker sends its parent to forward (bench-worker.ts). */
export type PartnerRequest =
  | { op: 'warm'; batch: number; way: PartnerWay; warmup_s: number }
  | { op: 'run'; batch: number; way: PartnerWay; runs: number };

/** The partner's reply: warm-up runs made, run times, or why Keras could not run it. */
export type PartnerReply = { runs: number } | { times_ms: number[] } | { error: string };

/**
 * The reference a pass alternates with (timedAlternating): Keras's tf.function of the same pass at
 * the same batch size, through `ask`: the partner itself (keras-partner.ts) in the bench's process,
 * a message to it from a worker process (bench-worker.ts), or a function the bench exposes to a
 * Chromium page (page-bench-task.ts). Browser-safe: no Node module here.
 */
export function partnerReference(ask: (request: PartnerRequest) => Promise<PartnerReply>, batch: number, pass: 'forward' | 'backward'): AlternatingReference {
  const way: PartnerWay = pass === 'forward' ? 'function_forward' : 'function_backward';
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
