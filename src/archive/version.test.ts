import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { JeosError } from '../errors.js';
import { compareVersions, isValidVersion, parseVersion, satisfiesRelation, type VersionRelation } from './version.js';

type Sign = -1 | 0 | 1;
const sign = (n: number): Sign => (n < 0 ? -1 : n > 0 ? 1 : 0);

// [a, expected sign of compareVersions(a, b), b]. Every row is also checked against dpkg
// in the agreement test below, so a wrong expectation here cannot go unnoticed.
const CASES: Array<[string, Sign, string]> = [
  // epochs
  ['1:0.1', 1, '9.9'],
  ['0:1.0', 0, '1.0'],
  ['00:1.0', 0, '0:1.0'],
  ['2:1', 1, '1:9'],
  ['10:1', 1, '9:1'],
  ['1:1.0-1', 1, '1.0-99'],
  ['2147483647:1', 1, '2147483646:99'],
  // tilde sorts before everything, even the end of the string
  ['1.0~rc1', -1, '1.0'],
  ['1.0', -1, '1.0+b1'],
  ['1.0~rc1', -1, '1.0+b1'],
  ['1.0~~', -1, '1.0~'],
  ['1.0~~a', -1, '1.0~'],
  ['1.0~', -1, '1.0'],
  ['1~', -1, '1'],
  ['1.0~beta', -1, '1.0~rc'],
  ['1.0~rc1', -1, '1.0~rc2'],
  ['1.0-1~bpo12+1', -1, '1.0-1'],
  ['1.0~rc1-1', -1, '1.0-0'],
  // revisions
  ['1.0-1', -1, '1.0-2'],
  ['1.0-10', 1, '1.0-9'],
  ['1.0-1', -1, '1.0-1.1'],
  ['1.0-1', -1, '1.0-1+deb12u1'],
  ['1.0-1+deb12u1', -1, '1.0-1+deb12u2'],
  ['1.0', 0, '1.0-0'],
  ['1.0-1', 0, '1.0-01'],
  ['1.0-1', -1, '1.0a-0'],
  ['1-2-3', -1, '1-2-4'],
  ['1-2-3', 1, '1-2'],
  ['2.0-1', 1, '1.0-99'],
  // letters sort before non-letters, after the end; digits vs letters
  ['1.0a', -1, '1.0+'],
  ['1.0a', -1, '1.0.'],
  ['1.0a', 1, '1.0'],
  ['1.0Z', -1, '1.0a'],
  ['1.0a', -1, '1.0b'],
  ['1.0a', -1, '1.01'],
  ['1.0+dfsg-1', 1, '1.0-1'],
  ['1.0+dfsg', -1, '1.0.1'],
  ['1.0.', 1, '1.0'],
  // digit runs are numbers; leading zeros ignored
  ['1.01', 0, '1.1'],
  ['1.001', 0, '1.1'],
  ['1.0', 0, '1.00'],
  ['000', 0, '0'],
  ['1.010', 1, '1.9'],
  ['1.9', -1, '1.10'],
  ['1.99999999999999999999', -1, '1.100000000000000000000'],
  ['1.00000000000000000000000001', 0, '1.1'],
  // more structure beats less, except for '~'
  ['1.0', -1, '1.0.0'],
  ['1', -1, '1.0'],
  ['1.0', 0, '1.0'],
  ['1.2.3', 0, '1.2.3'],
];

test('compareVersions: unit cases', () => {
  for (const [a, want, b] of CASES) {
    assert.equal(sign(compareVersions(a, b)), want, `compareVersions(${a}, ${b})`);
    assert.equal(sign(compareVersions(b, a)), want === 0 ? 0 : -want, `compareVersions(${b}, ${a})`);
    assert.equal(compareVersions(a, a), 0, `compareVersions(${a}, ${a})`);
  }
});

test('compareVersions: surrounding whitespace is ignored, as dpkg does', () => {
  assert.equal(compareVersions(' 1.0 ', '1.0'), 0);
  assert.equal(compareVersions('\t1:2.0\n', '1:2.0'), 0);
});

test('compareVersions: refuses what dpkg refuses', () => {
  for (const v of ['', '   ', ':1', '1:', '1.0-', 'a:1', '1.0-1:2', '1.0:1', '2147483648:1', '-1']) {
    assert.throws(
      () => compareVersions(v, '1.0'),
      (e: unknown) => e instanceof JeosError && e.code === 'E_VERSION_SYNTAX',
      `compareVersions(${JSON.stringify(v)}, '1.0') should throw`,
    );
    assert.throws(() => compareVersions('1.0', v), JeosError);
  }
});

test('parseVersion', () => {
  assert.deepEqual(parseVersion('1.0'), { epoch: 0, upstream: '1.0', revision: '' });
  assert.deepEqual(parseVersion('1:2.30-4+deb12u1'), { epoch: 1, upstream: '2.30', revision: '4+deb12u1' });
  // the LAST hyphen starts the revision; the FIRST colon ends the epoch
  assert.deepEqual(parseVersion('1.2-3-4'), { epoch: 0, upstream: '1.2-3', revision: '4' });
  assert.deepEqual(parseVersion('2:1:2.0-1'), { epoch: 2, upstream: '1:2.0', revision: '1' });
  assert.deepEqual(parseVersion('007:1'), { epoch: 7, upstream: '1', revision: '' });
  assert.deepEqual(parseVersion(' 1.0-1 '), { epoch: 0, upstream: '1.0', revision: '1' });
  assert.throws(() => parseVersion('1.0 1'), /embedded spaces/);
  assert.throws(() => parseVersion('1.0-'), /revision number is empty/);
  assert.throws(() => parseVersion(':1.0'), /epoch in version is empty/);
  assert.throws(() => parseVersion('x:1.0'), /epoch in version is not number/);
  assert.throws(() => parseVersion('1:'), /nothing after colon/);
  assert.throws(() => parseVersion('1:-1'), /version number is empty/);
  assert.throws(() => parseVersion('99999999999:1'), /too big/);
});

test('isValidVersion', () => {
  for (const v of ['0', '1.0', '1:1.0', '1.0-1', '1.0~rc1+dfsg-2~bpo12+1', '2:1:2-3', '1.2-3-4', '1.0-a.B~c+1', '20230101']) {
    assert.equal(isValidVersion(v), true, v);
  }
  for (const v of ['', 'a1.0', '1.0_1', '1.0-1:1', '1.0-1_2', '1.0-', ':1', 'x:1', '1 0', ' 1.0', '1.0\n', '1:a', '1.0-1-', '~1']) {
    assert.equal(isValidVersion(v), false, JSON.stringify(v));
  }
});

test('satisfiesRelation: every operator', () => {
  const table: Array<[VersionRelation, boolean, boolean, boolean]> = [
    // op,   1.0 op 2.0, 2.0 op 2.0, 3.0 op 2.0
    ['<<', true, false, false],
    ['<=', true, true, false],
    ['<', true, true, false], // obsolete spelling of <=
    ['=', false, true, false],
    ['>=', false, true, true],
    ['>', false, true, true], // obsolete spelling of >=
    ['>>', false, false, true],
  ];
  for (const [op, lower, equal, higher] of table) {
    assert.equal(satisfiesRelation('1.0', op, '2.0'), lower, `1.0 ${op} 2.0`);
    assert.equal(satisfiesRelation('2.0', op, '2.0'), equal, `2.0 ${op} 2.0`);
    assert.equal(satisfiesRelation('3.0', op, '2.0'), higher, `3.0 ${op} 2.0`);
    // equal under a different spelling
    assert.equal(satisfiesRelation('0:2.0-0', op, '2.00'), equal, `0:2.0-0 ${op} 2.00`);
  }
  assert.equal(satisfiesRelation('1.0~rc1', '<<', '1.0'), true);
  assert.equal(satisfiesRelation('1:0.1', '>>', '9.9'), true);
  assert.throws(() => satisfiesRelation('1.0', '!=' as VersionRelation, '1.0'), JeosError);
});

// ---------------------------------------------------------------------------------------
// Agreement with dpkg on versions from a real Packages index.

const LISTS = '/var/lib/apt/lists';
const APT_HELPER = '/usr/lib/apt/apt-helper';
const PER_CATEGORY = 1500;

interface Entry {
  pkg: string;
  version: string;
  list: number;
}

/** mulberry32: a tiny seeded PRNG, so the sampled pairs are the same on every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sample<T>(items: readonly T[], n: number, rnd: () => number): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, n);
}

function readLists(): { lists: number; entries: Entry[] } {
  const names = existsSync(LISTS) ? readdirSync(LISTS).filter((n) => /_Packages(\.\w+)?$/.test(n)).sort() : [];
  if (names.length === 0) {
    assert.fail(
      `no Packages index under ${LISTS}: run \`apt-get update\` so this test has real versions to check against dpkg`,
    );
  }
  const entries: Entry[] = [];
  names.forEach((name, list) => {
    // apt-helper decompresses whatever compression apt stored the list with (lz4 here).
    const text = execFileSync(APT_HELPER, ['cat-file', join(LISTS, name)], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    let pkg = '';
    for (const m of text.matchAll(/^(Package|Version):[ \t]*(\S+)[ \t]*$/gm)) {
      if (m[1] === 'Package') pkg = m[2]!;
      else entries.push({ pkg, version: m[2]!, list });
    }
  });
  return { lists: names.length, entries };
}

function buildPairs(entries: Entry[]): { pairs: Array<[string, string]>; counts: Record<string, number> } {
  const rnd = prng(0x5eed);
  const seen = new Set<string>();
  const pairs: Array<[string, string]> = [];
  const counts: Record<string, number> = {};
  const add = (category: string, a: string, b: string): void => {
    const key = `${a}\n${b}`;
    if (a === b || seen.has(key)) return;
    seen.add(key);
    pairs.push([a, b]);
    counts[category] = (counts[category] ?? 0) + 1;
  };

  const unique = [...new Set(entries.map((e) => e.version))].sort();

  // 1. neighbours in plain string order: versions that share long prefixes
  const neighbours: Array<[string, string]> = [];
  for (let i = 1; i < unique.length; i++) neighbours.push([unique[i - 1]!, unique[i]!]);
  for (const [a, b] of sample(neighbours, PER_CATEGORY, rnd)) {
    if (rnd() < 0.5) add('neighbours', a, b);
    else add('neighbours', b, a); // either order, so both signs get exercised
  }

  // 2. random pairs of unrelated versions
  for (let i = 0; i < PER_CATEGORY && unique.length > 1; i++) {
    const a = unique[Math.floor(rnd() * unique.length)]!;
    const b = unique[Math.floor(rnd() * unique.length)]!;
    add('random', a, b);
  }

  // 3. different versions of the same package, e.g. bookworm vs bookworm-security
  const byPkg = new Map<string, Set<string>>();
  for (const e of entries) {
    let s = byPkg.get(e.pkg);
    if (!s) byPkg.set(e.pkg, (s = new Set()));
    s.add(e.version);
  }
  const samePkg: Array<[string, string]> = [];
  for (const versions of byPkg.values()) {
    const vs = [...versions];
    for (let i = 0; i < vs.length; i++) for (let j = i + 1; j < vs.length; j++) samePkg.push([vs[i]!, vs[j]!]);
  }
  for (const [a, b] of sample(samePkg, PER_CATEGORY, rnd)) add('same package', a, b);

  // 4. edge cases: the unit table, and real versions bent with ~, +, epochs, zeros
  for (const [a, , b] of CASES) add('edge', a, b);
  for (const v of sample(unique, 150, rnd)) {
    const { epoch, revision } = parseVersion(v);
    add('edge', v, `${v}~`);
    add('edge', `${v}~~`, `${v}~`);
    add('edge', `${v}~rc1`, v);
    add('edge', v, `${v}+b1`);
    add('edge', `${v}+b1`, `${v}.1`);
    add('edge', v, v.replace(/\.(\d)/, '.0$1'));
    add('edge', v, v.replace(/(\d+)$/, (d) => String(Number(d.slice(-6)) + 1)));
    if (epoch === 0) add('edge', v, `1:${v}`);
    else add('edge', v, v.slice(v.indexOf(':') + 1));
    if (revision === '') {
      add('edge', v, `${v}-0`);
      add('edge', v, `${v}-1`);
    }
  }
  return { pairs, counts };
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * dpkg's verdict on each pair (-1, 0, 1, or "E<exit code>"), one `sh` per core, each fed a
 * script of `dpkg --compare-versions` calls. `eq` is asked only when `lt` says no.
 */
async function dpkgVerdicts(pairs: Array<[string, string]>): Promise<string[]> {
  const prelude =
    'c() { dpkg --compare-versions "$1" lt "$2" 2>/dev/null; r=$?\n' +
    '  if [ $r -eq 0 ]; then echo -1\n' +
    '  elif [ $r -eq 1 ]; then dpkg --compare-versions "$1" eq "$2" 2>/dev/null; r=$?\n' +
    '    if [ $r -eq 0 ]; then echo 0; elif [ $r -eq 1 ]; then echo 1; else echo "E$r"; fi\n' +
    '  else echo "E$r"; fi; }\n';
  const jobs = Math.max(1, Math.min(4, availableParallelism()));
  const size = Math.ceil(pairs.length / jobs);
  const chunks: Array<Array<[string, string]>> = [];
  for (let i = 0; i < pairs.length; i += size) chunks.push(pairs.slice(i, i + size));

  const run = (chunk: Array<[string, string]>): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const sh = spawn('sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      sh.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      sh.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      sh.on('error', reject);
      sh.on('close', (code) => {
        const lines = out.split('\n').filter((l) => l !== '');
        if (code !== 0 || lines.length !== chunk.length) {
          reject(new Error(`sh exited ${code} with ${lines.length}/${chunk.length} answers: ${err.slice(0, 500)}`));
        } else resolve(lines);
      });
      sh.stdin.end(prelude + chunk.map(([a, b]) => `c ${shq(a)} ${shq(b)}\n`).join(''));
    });
  return (await Promise.all(chunks.map(run))).flat();
}

test('compareVersions agrees with dpkg --compare-versions on thousands of real version pairs', async (t) => {
  const started = Date.now();
  try {
    execFileSync('dpkg', ['--version'], { stdio: 'ignore' });
  } catch {
    assert.fail('dpkg is needed for this test (it is the reference implementation)');
  }
  assert.ok(existsSync(APT_HELPER), `${APT_HELPER} is missing: install apt, then run \`apt-get update\``);

  const { lists, entries } = readLists();
  assert.ok(entries.length > 0, `the Packages lists under ${LISTS} hold no versions: run \`apt-get update\``);
  const invalid = [...new Set(entries.map((e) => e.version))].filter((v) => !isValidVersion(v));
  assert.deepEqual(invalid.slice(0, 10), [], 'real versions that isValidVersion rejects');

  const { pairs, counts } = buildPairs(entries);
  assert.ok(pairs.length >= 3000, `only ${pairs.length} pairs could be built`);

  const dpkgStarted = Date.now();
  const verdicts = await dpkgVerdicts(pairs);
  const dpkgMs = Date.now() - dpkgStarted;

  const disagreements: string[] = [];
  pairs.forEach(([a, b], i) => {
    const want = verdicts[i]!;
    let got: string;
    try {
      got = String(sign(compareVersions(a, b)));
    } catch (e) {
      got = `threw ${(e as Error).message}`;
    }
    if (got !== want) disagreements.push(`${a} vs ${b}: dpkg says ${want}, compareVersions says ${got}`);
  });

  const breakdown = Object.entries(counts)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  t.diagnostic(
    `compared ${pairs.length} pairs (${breakdown}) from ${entries.length} Version fields in ${lists} lists; ` +
      `dpkg took ${dpkgMs} ms, whole test ${Date.now() - started} ms`,
  );
  assert.equal(
    disagreements.length,
    0,
    `${disagreements.length} of ${pairs.length} pairs disagree with dpkg, first ones:\n  ${disagreements.slice(0, 10).join('\n  ')}`,
  );
});
