import type { ZodIssue } from 'zod';

/** "field 'goldens.tensors[3].shape': Expected array, received string" */
export function describeZodIssue(issue: ZodIssue): string {
  return `field '${formatZodPath(issue.path)}': ${issue.message}`;
}

export function formatZodPath(pathParts: ReadonlyArray<string | number>): string {
  if (pathParts.length === 0) return '(root)';
  return pathParts
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
}
