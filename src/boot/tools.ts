import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { JeosError } from '../errors.js';

/** Where an executable is on PATH, or undefined. */
export async function which(name: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

/** Fail in the first second when a tool a command needs is missing, naming why and how to install it. */
export async function requireTool(name: string, why: string, debianPackage = name): Promise<string> {
  const found = await which(name);
  if (found) return found;
  throw new JeosError('E_TOOL_MISSING', `${name} is not installed; it is needed to ${why}`, {
    hint: `install it: apt-get install ${debianPackage}`,
  });
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a program to completion and collect its output; never throws for a non-zero exit. */
export function run(cmd: string, args: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    // A program that exits without reading its input closes the pipe: that is not an error of ours.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}
