/** Compact scientific notation for error figures: 3.1e-7, 0, inf. */
export function formatError(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return 'inf';
  if (value === 0) return '0';
  return value.toExponential(1);
}
