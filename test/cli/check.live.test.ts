// Live tier: jeos build --check on a VM-only build (outputs: [vm]) from the real archive, booted
// under QEMU. nginx here cannot start in any image (its configuration includes a file no package
// ships), so the trimmed VM fails, the check builds the VM untrimmed and boots it the way
// jeos test --vm does, and reports that this fails too: the trim is not the cause. (When the
// untrimmed VM passes, the bisection that follows takes a dozen boots — 6 minutes under TCG for
// examples/nginx — so that path is tested without QEMU, in src/check/check.test.ts.) When nginx's own
// error names the dropped file, that is the answer: no untrimmed build is made.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { runJeosLive, test } from '../live.js';
import { root } from './harness.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-check-vm-'));
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
const skip = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64']).status !== 0 && 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';

after(async () => {
  await rm(work, { recursive: true, force: true });
});

/**
 * examples/nginx, VM only, with one more nginx configuration file (`conf`) in conf.d, and
 * optionally a second one (`inner`) at /opt/jeos-check/inner.conf, outside /etc, where the
 * trim does not look for the paths configuration names.
 */
async function brokenNginx(name: string, conf: string, inner?: string): Promise<string> {
  const project = join(work, name);
  await cp(join(root, 'examples/nginx'), project, { recursive: true });
  await rm(join(project, 'out'), { recursive: true, force: true });
  await writeFile(join(project, 'broken.conf'), conf);
  if (inner !== undefined) await writeFile(join(project, 'inner.conf'), inner);
  const files = `$1- path: /etc/nginx/conf.d/broken.conf\n$1  source: broken.conf\n${inner === undefined ? '' : '$1- path: /opt/jeos-check/inner.conf\n$1  source: inner.conf\n'}$&`;
  const yaml = await readFile(join(project, 'jeos.yaml'), 'utf8');
  await writeFile(
    join(project, 'jeos.yaml'),
    yaml.replace(/^outputs:.*$/m, 'outputs: [vm]').replace(/^( +)- path: \/var\/www\/html\/index\.html$/m, files),
  );
  return project;
}

test('a VM-only build whose VM fails is compared with the VM built untrimmed, booted as jeos test --vm boots it', { skip }, async () => {
  const project = await brokenNginx('nginx', 'include /nonexistent/jeos-check.conf;\n');
  const r = await runJeosLive(cacheDir, 'build', project, '--check', '--json');
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.ok, false);
  assert.ok(out.vm?.trim, 'the VM was trimmed');
  assert.deepEqual(out.check, { vm: false, untrimmedVm: { ok: false, needed: [], builds: 1 } });
  assert.match(r.stderr, /check: building the same VM untrimmed to compare\n/);
  assert.match(r.stderr, /check: the untrimmed VM fails too: the trim is not the cause/);
});

test('when the failing VM\'s output names a dropped file, --check says so and builds nothing more', { skip }, async () => {
  // iproute2's bpf_pinning is in the systemd VM (iproute2 comes with systemd's closure) and the trim drops it:
  // named from /opt (not /etc, whose configuration files the trim reads for paths), nothing keeps it.
  const project = await brokenNginx('nginx-named', 'include /opt/jeos-check/inner.conf;\n', 'include /usr/share/iproute2/bpf_pinning;\n');
  const r = await runJeosLive(cacheDir, 'build', project, '--check', '--json');
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.check, { vm: false });
  assert.match(r.stderr, /check: the VM's output names a dropped path \(\/usr\/share\/iproute2\/bpf_pinning\): no untrimmed build is needed/);
  assert.doesNotMatch(r.stderr, /untrimmed to compare/);
});
