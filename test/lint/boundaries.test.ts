// The rules between folders (.dependency-cruiser.cjs) catch a wrong-way import: dependency-cruiser
// runs with the repository's rules over a small tree made here, laid out as src/ is.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;
const work = await mkdtemp(join(tmpdir(), 'jeos-lint-'));
after(() => rm(work, { recursive: true, force: true }));

/** dependency-cruiser with the repository's rules over `files` (path → content): its exit status and report. */
async function cruise(name: string, files: Record<string, string>): Promise<{ status: number | null; out: string }> {
  const dir = join(work, name);
  const all = { 'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }), ...files };
  for (const [path, text] of Object.entries(all)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  const r = spawnSync(process.execPath, [join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'), '--config', join(root, '.dependency-cruiser.cjs'), 'src'], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('imports down the pipeline pass', async () => {
  const r = await cruise('down', {
    'src/errors.ts': 'export const E = 1;\n',
    'src/tree/tree.ts': "import { E } from '../errors.js';\nexport const T = E;\n",
    'src/vm/kernel.ts': "import { T } from '../tree/tree.js';\nexport const K = T;\n",
    'src/cli/main.ts': "import { K } from '../vm/kernel.js';\nexport const M = K;\n",
  });
  assert.equal(r.status, 0, r.out);
});

test('src/config importing src/cli fails, naming the rules it breaks', async () => {
  const r = await cruise('config-cli', {
    'src/cli/main.ts': 'export const M = 1;\n',
    'src/config/load.ts': "import { M } from '../cli/main.js';\nexport const L = M;\n",
  });
  assert.notEqual(r.status, 0);
  assert.match(r.out, /layer-config/);
  assert.match(r.out, /not-to-cli/);
});

test('an output writer importing the VM stage, a cycle, and shipped code importing test support all fail', async () => {
  const r = await cruise('wrong-way', {
    'src/vm/kernel.ts': 'export const K = 1;\n',
    'src/outputs/vm.ts': "import { K } from '../vm/kernel.js';\nexport const V = K;\n",
    'src/unpack/a.ts': "import { B } from './b.js';\nexport const A = 1 + B;\n",
    'src/unpack/b.ts': "import { A } from './a.js';\nexport const B = 1;\nexport const C = () => A;\n",
    'test/support/fake.ts': 'export const F = 1;\n',
    'src/trim/trim.ts': "import { F } from '../../test/support/fake.js';\nexport const X = F;\n",
  });
  assert.notEqual(r.status, 0);
  for (const rule of ['layer-outputs', 'no-circular', 'not-to-tests']) assert.match(r.out, new RegExp(rule));
});
