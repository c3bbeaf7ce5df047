import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { describeZodIssue } from '../keras/zod-issues.js';
import { DECISION_STATISTICS, type CompareOptions } from './compare-tensors.js';
import { defaultTolerance, type Tolerance } from './tolerance.js';

const toleranceSchema = z.object({ atol: z.number().nonnegative(), rtol: z.number().nonnegative() }).strict();

/** The --tolerances file: overrides by backend and by layer, and the decision statistic. */
export const toleranceFileSchema = z
  .object({
    default: toleranceSchema.optional(),
    backends: z.record(toleranceSchema).optional(),
    layers: z.record(toleranceSchema).optional(),
    statistic: z.enum(DECISION_STATISTICS as [string, ...string[]]).optional(),
    quantile: z.number().gt(0).lt(1).optional(),
  })
  .strict();
export type ToleranceFile = z.infer<typeof toleranceFileSchema>;

/**
 * Which tolerance applies to a tensor: the layer's override, else the backend's, else the run's
 * default (--atol/--rtol or the file's `default`), else the per-dtype default table.
 */
export class TolerancePolicy {
  constructor(private readonly file: ToleranceFile = {}, private readonly override?: Tolerance) {}

  /** `kind` picks the built-in default for golden kinds that have their own (trained weights). */
  toleranceFor(tensor: { dtype: string; backend: string; layer: string | null; kind?: string }): Tolerance {
    const layer = tensor.layer === null ? undefined : this.file.layers?.[tensor.layer];
    return layer ?? this.file.backends?.[tensor.backend] ?? this.override ?? this.file.default ?? defaultTolerance(tensor.dtype, tensor.kind, tensor.backend);
  }

  get compareOptions(): CompareOptions {
    return {
      ...(this.file.statistic ? { statistic: this.file.statistic as CompareOptions['statistic'] } : {}),
      ...(this.file.quantile ? { quantile: this.file.quantile } : {}),
    };
  }

  static async fromFile(file: string, override?: Tolerance): Promise<TolerancePolicy> {
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new InputError(`${file}: cannot read the tolerance file (${e.code ?? e.message}).`);
    });
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new InputError(`${file}: not valid JSON (${(e as Error).message}).`);
    }
    const parsed = toleranceFileSchema.safeParse(raw);
    if (!parsed.success) throw new InputError(`${file}: ${describeZodIssue(parsed.error.issues[0]!)}`);
    return new TolerancePolicy(parsed.data, override);
  }
}
