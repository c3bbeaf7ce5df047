import { execa } from 'execa';
import { CLI, REPO_ROOT } from './paths.js';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the built keras-bridge CLI in a child process, as a user would. */
export async function runCli(args: string[], options: { env?: Record<string, string> } = {}): Promise<CliResult> {
  const result = await execa('node', [CLI, ...args], { cwd: REPO_ROOT, reject: false, env: { NO_COLOR: '1', ...options.env } });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}
