import path from 'node:path';
import ts from 'typescript';

/**
 * TypeScript's errors in `files` (only theirs, not their imports') under the project's strict
 * settings (tsconfig.json's), as `file: message` lines; `options` adds module resolution for where
 * the files lie.
 */
export function strictTypeErrors(files: string[], options: ts.CompilerOptions = {}): string[] {
  const program = ts.createProgram(files, {
    strict: true,
    noImplicitOverride: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
    skipLibCheck: true,
    ...options,
  });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && files.includes(path.resolve(d.file.fileName)))
    .map((d) => `${path.basename(d.file!.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
}
