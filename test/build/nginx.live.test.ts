// Live tier: the bundled nginx example built from the real trixie archive (mirrors from
// apt's configuration, signatures checked), run with podman, answering HTTP 200; the
// image's dpkg database is checked by dpkg itself.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { runJeosLive, skippedEarlier, test } from '../live.js';
import { runTool } from '../fixtures/debs.js';
import { cli, root } from '../cli/harness.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-nginx-'));
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
const project = join(work, 'nginx');

const jeos = (...args: string[]) => runJeosLive(cacheDir, ...args);

describe('the nginx example from the live archive', () => {
  before(async () => {
    await cp(join(root, 'examples/nginx'), project, { recursive: true });
    await rm(join(project, 'jeos.lock'), { force: true });
    await rm(join(project, 'out'), { recursive: true, force: true });
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('builds, and the image answers HTTP 200 in a container', async () => {
    const built = await jeos('build', project, '--json');
    assert.equal(built.code, 0, built.stderr + built.stdout);
    const record = JSON.parse(built.stdout);
    assert.ok(record.packages.some((p: { name: string }) => p.name === 'nginx'));
    assert.ok(record.image.tree.files > 100);

    const tested = await jeos('test', project, '--container', '--json');
    const result = JSON.parse(tested.stdout);
    assert.equal(tested.code, 0, `${tested.stderr}\n${tested.stdout}`);
    assert.equal(result.ok, true);
    assert.equal(result.healthcheck.kind, 'http');
    assert.match(result.healthcheck.detail, /^HTTP 200 /);
  });

  test('dpkg itself finds the image\'s package database truthful', async (t) => {
    if (skippedEarlier(t)) return;
    const rootfs = join(work, 'rootfs');
    await mkdir(rootfs);
    await runTool('tar', ['-xf', join(project, 'out/rootfs.tar'), '-C', rootfs]);
    const verify = await runTool('dpkg', [`--root=${rootfs}`, '--verify']);
    assert.equal(verify.toString(), '', 'dpkg --verify reports nothing');
    const listed = (await runTool('dpkg', [`--root=${rootfs}`, '-l'])).toString();
    assert.match(listed, /^ii {2}nginx\s/m);
    const passwd = await readFile(join(rootfs, 'etc/passwd'), 'utf8');
    assert.match(passwd, /^www-data:x:33:33:/m, 'nginx\'s worker user exists with Debian\'s static id');
  });

  test('a workload that cannot start fails jeos test with its own error', async (t) => {
    if (skippedEarlier(t)) return;
    const broken = join(work, 'broken');
    await cp(project, broken, { recursive: true });
    const yaml = await readFile(join(broken, 'jeos.yaml'), 'utf8');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(broken, 'jeos.yaml'), yaml.replace('daemon off;', 'daemon off; no_such_directive on;'));
    assert.equal((await jeos('build', broken, '--quiet', '--offline')).code, 0);
    const tested = await jeos('test', broken, '--json');
    assert.equal(tested.code, 1);
    const result = JSON.parse(tested.stdout);
    assert.equal(result.ok, false);
    assert.match(result.healthcheck.detail, /exited with status 1/);
    assert.match(result.logs, /unknown directive "no_such_directive"/);
  });
});
