/**
 * Debian's docker-registry (distribution 2.8) on loopback, for tests that push and pull:
 * open, behind htpasswd authentication, or read-only.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

export interface Registry {
  /** `127.0.0.1:PORT` */
  host: string;
  proc: ChildProcess;
  log: () => string;
  stop: () => void;
}

export interface RegistryOptions {
  /** htpasswd authentication with this one user. */
  user?: { name: string; password: string };
  readOnly?: boolean;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A bcrypt htpasswd line: htpasswd (apache2-utils) when installed, else Python's crypt module. */
async function htpasswdLine(name: string, password: string): Promise<string> {
  const run = promisify(execFile);
  try {
    return (await run('htpasswd', ['-nbB', name, password])).stdout.trim();
  } catch {
    const py = `import crypt,sys; print(sys.argv[1] + ':' + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))`;
    return (await run('python3', ['-W', 'ignore', '-c', py, name, password])).stdout.trim();
  }
}

export async function startRegistry(dir: string, options: RegistryOptions = {}): Promise<Registry> {
  const port = await freePort();
  await mkdir(dir, { recursive: true });
  const config = join(dir, 'config.yml');
  const lines = ['version: 0.1', 'log:', '  level: warn', 'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`];
  if (options.readOnly) lines.push('  maintenance:', '    readonly:', '      enabled: true');
  lines.push('http:', `  addr: 127.0.0.1:${port}`);
  if (options.user) {
    const htpasswd = join(dir, 'htpasswd');
    await writeFile(htpasswd, `${await htpasswdLine(options.user.name, options.user.password)}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: jeos-test', `    path: ${htpasswd}`);
  }
  await writeFile(config, lines.join('\n') + '\n');
  const proc = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const host = `127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) break;
    // 401 is up, too: an htpasswd registry answers /v2/ only to its user.
    const up = await fetch(`http://${host}/v2/`).then((r) => r.ok || r.status === 401, () => false);
    if (up) return { host, proc, log: () => output, stop: () => void proc.kill() };
    await sleep(50);
  }
  proc.kill();
  throw new Error(`docker-registry did not come up on ${host}:\n${output}`);
}
