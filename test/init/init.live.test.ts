// Live tier: jeos init from the real trixie archive (mirrors from apt's configuration,
// signatures checked) for a package, a program installed on this machine, a command line
// whose program is not installed here (found through the archive's Contents index) and an
// unpackaged program compiled here; each result is built, and run with podman when it is
// available, where it must pass the health check init wrote for it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { checkedRun, test } from '../live.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-init-'));
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
const hasPodman = spawnSync('podman', ['--version']).status === 0;
const hasCc = spawnSync('cc', ['--version']).status === 0 && existsSync('/usr/include/zlib.h');

const jeos = (...args: string[]) => checkedRun(args, { cwd: work, env: { ...process.env, JEOS_CACHE_DIR: cacheDir, NO_COLOR: '1' } });

/** init, then build with the lock init wrote (--frozen), then the container health check when podman is here. */
async function initBuildTest(dir: string, from: string): Promise<{ init: Record<string, any>; health?: string }> {
  const r = await jeos('init', dir, '--from', from, '--json');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const init = JSON.parse(r.stdout);
  const built = await jeos('build', dir, '--frozen', '--format', 'oci', '-q');
  assert.equal(built.code, 0, built.stderr + built.stdout);
  if (!hasPodman || !init.healthcheck) return { init };
  const tested = await jeos('test', dir, '--container', '--json');
  assert.equal(tested.code, 0, `${tested.stderr}\n${tested.stdout}`);
  return { init, health: JSON.parse(tested.stdout).healthcheck.detail };
}

describe('jeos init from the live archive', () => {
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('--from nginx: the unit\'s program in the foreground, port 80, an HTTP check that passes', async () => {
    const { init, health } = await initBuildTest('nginx', 'nginx');
    assert.deepEqual(init.packages, ['nginx']);
    assert.deepEqual(init.command, ['/usr/sbin/nginx', '-g', 'daemon off;']);
    assert.deepEqual(init.healthcheck, { http: 'http://localhost:80/' });
    assert.ok(init.choices.some((c: { why: string }) => /ExecStart= of nginx\.service/.test(c.why)));
    if (hasPodman) assert.match(health!, /^HTTP 200 /);
  });

  test('--from \'redis-server --port 6380\': not installed here, found in the Contents index; the arguments and their port are kept', async () => {
    const { init, health } = await initBuildTest('redis', 'redis-server --port 6380');
    assert.deepEqual(init.packages, ['redis-server']);
    assert.deepEqual(init.command.slice(1), ['--port', '6380']);
    assert.deepEqual(init.healthcheck, { tcp: 6380 });
    if (hasPodman) assert.match(health!, /tcp 6380 accepts connections/);
  });

  test('--from /usr/bin/<program of this machine>: its package from the dpkg database', async () => {
    // tar is on every Debian machine; docker-registry, when installed, also has a health check to pass.
    const r = await jeos('init', 'tar', '--from', '/usr/bin/tar', '--json');
    assert.equal(r.code, 0, r.stderr);
    const tar = JSON.parse(r.stdout);
    // GNU tar runs /bin/sh (--use-compress-program, --to-command), so init adds the shell too.
    assert.deepEqual(tar.packages, ['tar', 'dash']);
    assert.match(tar.choices[0].why, /\/usr\/bin\/tar belongs to tar \(dpkg database of this machine\)/);
    assert.equal((await jeos('build', 'tar', '--frozen', '--format', 'tar', '-q')).code, 0);
    if (!existsSync('/usr/bin/docker-registry')) return;
    const { init, health } = await initBuildTest('registry', '/usr/bin/docker-registry');
    assert.deepEqual(init.command, ['/usr/bin/docker-registry', 'serve', '/etc/docker/registry/config.yml'], 'the unit\'s arguments');
    if (hasPodman) assert.match(health!, /^HTTP 401 /);
  });

  test('an unpackaged program compiled here: copied into the image with libc6 and zlib1g, and it serves', { skip: !hasCc && 'no C compiler or zlib.h' }, async () => {
    const src = join(work, 'tinyd.c');
    await writeFile(src, TINYD);
    await mkdir(join(work, 'opt/bin'), { recursive: true });
    const bin = join(work, 'opt/bin/tinyd');
    const cc = spawnSync('cc', ['-O2', '-o', bin, src, '-lz']);
    assert.equal(cc.status, 0, cc.stderr?.toString());
    const { init, health } = await initBuildTest('tinyd', `${bin} --port 7070`);
    assert.deepEqual([...init.packages].sort(), ['libc6', 'zlib1g']);
    assert.deepEqual(init.files.map((f: { path: string }) => f.path), [bin]);
    assert.match(await readFile(join(work, 'tinyd', 'jeos.yaml'), 'utf8'), /source: files\/.*tinyd/);
    if (hasPodman) assert.match(health!, /tcp 7070 accepts connections/);
  });
});

const TINYD = `#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>
int main(int argc, char **argv) {
  int port = 7070, one = 1;
  for (int i = 1; i + 1 < argc; i++) if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 16)) { perror("listen"); return 1; }
  printf("tinyd (zlib %s) on %d\\n", zlibVersion(), port);
  fflush(stdout);
  for (;;) { int c = accept(s, 0, 0); if (c >= 0) { write(c, "ok\\n", 3); close(c); } }
}
`;
