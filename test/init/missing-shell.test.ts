// jeos test names the interpreter a workload cannot start without: an image built from a package
// whose program is a #!/bin/sh script, with no shell, run in podman (runc or crun says only
// "no such file or directory"). The test's output names /bin/sh and the package that ships it.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startHarness, trixieRepo, type Harness } from '../cli/harness.js';

describe('jeos test names a missing interpreter', { timeout: 300_000 }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(trixieRepo([{ name: 'job', version: '1.0-1', files: { '/usr/bin/job': { content: '#!/bin/sh\necho working\nsleep 600\n', mode: 0o755 } } }], []));
  });
  after(async () => {
    await h?.close();
  });

  test('a #!/bin/sh workload in an image without a shell: FAILED, and "/usr/bin/job needs /bin/sh … add dash"', async (t) => {
    const dir = join(h.work, 'job');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'jeos.yaml'), 'name: job\ndebian: {suites: [trixie]}\nworkload:\n  packages: [job]\n  command: [/usr/bin/job]\n  healthcheck: {tcp: 8080, timeout: 5}\noutputs: [oci]\n');
    const built = await h.jeos('build', dir, '-q');
    assert.equal(built.code, 0, built.stderr);
    const r = await h.jeos('test', dir, '--container', '--json');
    if (/E_CONTAINER_PODMAN|E_TOOL|podman info/.test(r.stderr)) return t.skip(`podman cannot run containers here: ${r.stderr.trim().split('\n')[0]}`);
    const out = JSON.parse(r.stdout);
    assert.equal(out.ok, false);
    assert.deepEqual(out.missingInterpreters, [
      { program: '/usr/bin/job', interpreter: '/bin/sh', package: 'dash', message: '/usr/bin/job needs /bin/sh, which is not in the image; add dash to workload.packages' },
    ], r.stdout);
    const plain = await h.jeos('test', dir, '--container');
    assert.match(plain.stdout, /^\/usr\/bin\/job needs \/bin\/sh, which is not in the image; add dash to workload\.packages$/m);
  });
});
