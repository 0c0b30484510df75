// Live tier: the workloads of examples/ built trimmed from the real archive (mirrors from apt's
// configuration, signatures checked), each passing its health check in a container (podman) and in
// a VM (jeos test --vm under QEMU), with dpkg --verify finding the trimmed image's database truthful,
// and — in the container — answering in its own protocol, not just accepting connections:
//   nginx       HTTP 200 (a static page)
//   redis       a cache server: PING → +PONG, SET/GET
//   postgresql  a database server that creates its cluster on first start (initdb, then postgres):
//               the startup message gets the SCRAM authentication request pg_hba.conf asks for
//   python      an interpreter running a script (a standard-library HTTP service): its JSON
//   nginx-tls   NSS and TLS: HTTP 200 on port 80 only after nginx reached itself by name over TLS
//               with certificate verification; port 443 speaks TLS 1.3
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { runJeosLive, test } from '../live.js';
import { runTool } from '../fixtures/debs.js';
import { cli, root } from '../cli/harness.js';

// Lower case: podman names an image pulled from oci:DIR after DIR, and refuses upper-case names.
const work = join(tmpdir(), `jeos-trim-workloads-${randomBytes(4).toString('hex')}`);
await mkdir(work);
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const noQemu = !has('qemu-system-x86_64') && 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';
const noPodman = !has('podman') && 'podman is not installed (apt-get install podman)';

const jeos = (...args: string[]) => runJeosLive(cacheDir, ...args);

/** Send bytes to a TCP port and collect what comes back until `enough` says so (or 10 s pass). */
function exchange(port: number, send: Buffer | string, enough: (got: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`port ${port}: no full answer in 10 s (got ${JSON.stringify(got.toString('latin1'))})`))), 10_000);
    socket.on('connect', () => socket.write(send));
    socket.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (enough(got)) (clearTimeout(timer), socket.destroy(), resolve(got));
    });
    socket.on('error', (e) => (clearTimeout(timer), reject(e)));
  });
}

/** Retry a probe until it succeeds (the workload is still starting) or 90 s pass. */
async function eventually<T>(probe: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      return await probe();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** The image's OCI layout run with podman (with the fallbacks this kind of host needs), ports published on loopback. */
async function withContainer(project: string, ports: number[], use: (port: (inside: number) => number) => Promise<void>): Promise<void> {
  const flags = [...(has('runc') ? ['--runtime', 'runc'] : []), '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
  const publish = ports.flatMap((p) => ['-p', `127.0.0.1::${p}`]);
  const pull = spawnSync('podman', ['pull', '-q', `oci:${join(project, 'out/oci')}`], { encoding: 'utf8' });
  assert.equal(pull.status, 0, pull.stderr);
  const image = pull.stdout.trim().split('\n').pop()!;
  const run = spawnSync('podman', ['run', '-d', ...flags, ...publish, image], { encoding: 'utf8' });
  if (run.status !== 0) spawnSync('podman', ['rmi', '-f', image]);
  assert.equal(run.status, 0, run.stderr);
  const id = run.stdout.trim().split('\n').pop()!;
  try {
    const mapped = new Map<number, number>();
    for (const p of ports) {
      const out = spawnSync('podman', ['port', id, `${p}/tcp`], { encoding: 'utf8' }).stdout.trim();
      mapped.set(p, Number(out.split(':').pop()));
    }
    await use((inside) => mapped.get(inside)!);
  } catch (e) {
    const logs = spawnSync('podman', ['logs', '--tail', '30', id], { encoding: 'utf8' });
    throw new Error(`${(e as Error).message}\n--- podman logs ---\n${logs.stdout}${logs.stderr}`);
  } finally {
    spawnSync('podman', ['rm', '-f', '-t', '0', id]);
    spawnSync('podman', ['rmi', '-f', image]);
  }
}

function get(url: string, options: { tls?: boolean } = {}): Promise<{ status: number; body: string; protocol?: string }> {
  if (options.tls) {
    return new Promise((resolve, reject) => {
      // The certificate is self-signed, made in the container at first start: checked by nginx itself
      // (port 80's proxy verifies it), not here.
      const req = httpsRequest(url, { rejectUnauthorized: false, timeout: 5000, agent: false }, (res) => {
        const protocol = (res.socket as TLSSocket).getProtocol() ?? undefined;
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, protocol }));
      });
      req.on('error', reject);
      req.end();
    });
  }
  return fetch(url, { signal: AbortSignal.timeout(5000) }).then(async (r) => ({ status: r.status, body: await r.text() }));
}

interface Workload {
  example: string;
  /** A check in the workload's own protocol, against the running container. */
  ports: number[];
  speaks: (port: (inside: number) => number) => Promise<void>;
}

const WORKLOADS: Workload[] = [
  {
    example: 'nginx',
    ports: [80],
    async speaks(port) {
      const r = await eventually(() => get(`http://127.0.0.1:${port(80)}/`));
      assert.equal(r.status, 200);
      assert.match(r.body, /Served by nginx from a jeos image/);
    },
  },
  {
    example: 'redis',
    ports: [6379],
    async speaks(port) {
      const pong = await eventually(() => exchange(port(6379), 'PING\r\n', (b) => b.includes('\r\n')));
      assert.equal(pong.toString(), '+PONG\r\n');
      const got = await exchange(port(6379), 'SET jeos trimmed\r\nGET jeos\r\n', (b) => b.toString().endsWith('trimmed\r\n'));
      assert.equal(got.toString(), '+OK\r\n$7\r\ntrimmed\r\n');
    },
  },
  {
    example: 'postgresql',
    ports: [5432],
    async speaks(port) {
      // A protocol 3.0 startup message for user postgres: pg_hba.conf (written by initdb in start.sh)
      // asks TCP clients for SCRAM, so the server answers AuthenticationSASL ('R', code 10).
      const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
      const startup = Buffer.alloc(8 + params.length);
      startup.writeInt32BE(startup.length, 0);
      startup.writeInt32BE(196608, 4);
      params.copy(startup, 8);
      const answer = await eventually(() => exchange(port(5432), startup, (b) => b.length >= 9));
      assert.equal(String.fromCharCode(answer[0]!), 'R', `expected an authentication request, got ${JSON.stringify(answer.toString('latin1'))}`);
      assert.equal(answer.readInt32BE(5), 10, 'AuthenticationSASL');
      assert.match(answer.toString('latin1'), /SCRAM-SHA-256/);
    },
  },
  {
    example: 'python',
    ports: [8000],
    async speaks(port) {
      const r = await eventually(() => get(`http://127.0.0.1:${port(8000)}/hello`));
      assert.equal(r.status, 200);
      const json = JSON.parse(r.body);
      assert.equal(json.path, '/hello');
      assert.ok(json.hits >= 1);
      assert.match(json.sqlite, /^3\./, 'the sqlite3 module loaded libsqlite3');
    },
  },
  {
    example: 'nginx-tls',
    ports: [80, 443],
    async speaks(port) {
      const direct = await eventually(() => get(`https://127.0.0.1:${port(443)}/`, { tls: true }));
      assert.equal(direct.status, 200);
      assert.equal(direct.protocol, 'TLSv1.3');
      assert.match(direct.body, /^served over TLSv1\.3 with TLS_/);
      const proxied = await get(`http://127.0.0.1:${port(80)}/`);
      assert.equal(proxied.status, 200, 'nginx reached https://localhost:443 and verified its certificate');
      assert.match(proxied.body, /^served over TLSv1\.3 with TLS_/);
    },
  },
];

after(async () => {
  await rm(work, { recursive: true, force: true });
});

for (const w of WORKLOADS) {
  describe(`${w.example}, trimmed, from the live archive`, () => {
    const project = join(work, w.example);
    let built = false;
    before(async () => {
      await cp(join(root, 'examples', w.example), project, { recursive: true });
      await rm(join(project, 'jeos.lock'), { force: true });
      await rm(join(project, 'out'), { recursive: true, force: true });
    });

    test('builds trimmed (container and VM trees)', async () => {
      const r = await jeos('build', project, '--json');
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const record = JSON.parse(r.stdout);
      const trim = record.image.trim;
      assert.ok(trim, 'build.json has a trim record');
      assert.ok(trim.dropped.files > 0 && trim.kept.files > 0, JSON.stringify(trim.dropped));
      assert.ok(record.vm?.trim?.dropped.files > 0, 'the VM tree is trimmed too');
      assert.ok(trim.kept.bytes < trim.before.bytes);
      built = true;
    });

    test('dpkg --verify passes on the trimmed root file system', async (t) => {
      if (!built) return t.skip('not built');
      const rootfs = join(work, `${w.example}-rootfs`);
      await mkdir(rootfs);
      await runTool('tar', ['-xf', join(project, 'out/rootfs.tar'), '-C', rootfs]);
      const verify = await runTool('dpkg', [`--root=${rootfs}`, '--verify']);
      assert.equal(verify.toString(), '', 'dpkg --verify reports nothing');
      // The files a trimmed package lost are recorded next to the dpkg database.
      const dropped = JSON.parse(await readFile(join(project, 'out/trim.json'), 'utf8')).image.dropped as Record<string, unknown>;
      assert.ok(Object.keys(dropped).length > 0);
      await rm(rootfs, { recursive: true, force: true });
    });

    test('passes its health check in a container (jeos test --container)', { skip: noPodman }, async (t) => {
      if (!built) return t.skip('not built');
      const r = await jeos('test', project, '--container', '--json');
      assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
      const result = JSON.parse(r.stdout);
      assert.equal(result.ok, true);
      assert.equal(result.healthcheck.ok, true);
    });

    test('answers in its own protocol in a container', { skip: noPodman }, async (t) => {
      if (!built) return t.skip('not built');
      await withContainer(project, w.ports, w.speaks);
    });

    test('passes its health check in a VM with no failed unit (jeos test --vm)', { skip: noQemu }, async (t) => {
      if (!built) return t.skip('not built');
      const r = await jeos('test', project, '--vm', '--json');
      assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
      const result = JSON.parse(r.stdout);
      assert.equal(result.ok, true);
      assert.equal(result.healthcheck.ok, true, JSON.stringify(result.healthcheck));
      assert.deepEqual(result.failedUnits, []);
    });
  });
}
