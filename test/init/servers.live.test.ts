// Live tier: jeos init --from for servers of issue 24 whose command, port and check init now
// finds from the package alone (EnvironmentFile= expansion, the foreground table, an empty
// option argument, the protocol checks). tinyproxy is also built and run in podman, where the
// check init wrote must pass. (bind9, nsd and exim still need setup their maintainer scripts do,
// issue 24 point 1, so they are checked at init only.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { checkedRun, test } from '../live.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-servers-'));
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
const hasPodman = spawnSync('podman', ['--version']).status === 0;
const jeos = (...args: string[]) => checkedRun(args, { cwd: work, env: { ...process.env, JEOS_CACHE_DIR: cacheDir, NO_COLOR: '1' } });

async function init(pkg: string): Promise<Record<string, any>> {
  const r = await jeos('init', pkg, '--from', pkg, '--json');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return JSON.parse(r.stdout);
}

describe('jeos init for common Debian servers', () => {
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('bind9: named in the foreground with -u bind from /etc/default/named, ports 53 TCP and UDP, a DNS check', async () => {
    const out = await init('bind9');
    assert.deepEqual(out.command, ['/usr/sbin/named', '-f', '-u', 'bind']);
    assert.deepEqual(out.ports, [53, '53/udp']);
    assert.deepEqual(out.healthcheck, { dns: { port: 53, name: 'localhost', type: 'A' } });
  });

  test('nsd: its unit\'s -P "" left out with a note, a DNS check on port 53', async () => {
    const out = await init('nsd');
    assert.deepEqual(out.command, ['/usr/sbin/nsd', '-d']);
    assert.match(out.notes.join('\n'), /empty argument \(-P ""\)/);
    assert.deepEqual(out.healthcheck, { dns: { port: 53, name: 'localhost', type: 'A' } });
  });

  test('exim4-daemon-light: the daemon in the foreground (-bdf), an SMTP greeting check on port 25, dash for the shell it runs', async () => {
    const out = await init('exim4-daemon-light');
    assert.deepEqual(out.command, ['/usr/sbin/exim4', '-bdf', '-q30m']);
    assert.deepEqual(out.healthcheck, { smtp: 25 });
    assert.ok(out.packages.includes('dash'), out.packages.join(', '));
  });

  test('tinyproxy: the forking unit\'s daemon with -d, port 8888 from tinyproxy.conf, and the image passes its check in podman', async () => {
    const out = await init('tinyproxy');
    assert.deepEqual(out.command, ['/usr/bin/tinyproxy', '-d']);
    assert.deepEqual(out.healthcheck, { tcp: 8888 });
    assert.ok(out.choices.some((c: { key: string; why: string }) => c.key === 'ports' && /tinyproxy\.conf: Port 8888/.test(c.why)));
    const built = await jeos('build', 'tinyproxy', '--frozen', '--format', 'oci', '-q');
    assert.equal(built.code, 0, built.stderr + built.stdout);
    if (!hasPodman) return;
    const tested = await jeos('test', 'tinyproxy', '--container', '--json');
    assert.equal(tested.code, 0, `${tested.stderr}\n${tested.stdout}`);
    assert.match(JSON.parse(tested.stdout).healthcheck.detail, /^tcp 8888 accepts connections/);
  });
});
