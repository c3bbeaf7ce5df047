import { execa } from 'execa';
import { CLI, REPO_ROOT } from './paths.js';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** Run as this user and group (tests of permissions, when the tests run as root). */
  uid?: number;
  gid?: number;
}

/** Runs the built keras-bridge CLI in a child process, as a user would. */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const result = await execa('node', [CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    reject: false,
    env: { NO_COLOR: '1', ...options.env },
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}
