/**
 * The contract every output writer passes (STYLE item 6): one tree with owners, modes,
 * symlinks, hardlinks, devices, a fifo, long and non-ASCII names, binary xattrs and
 * future timestamps; the same bytes twice; and the rootfs read back by real tools —
 * GNU tar (listing, and extracting as root) and Python's tarfile.
 *
 * Each writer's test file calls `outputContract` with a way to find the rootfs tar in
 * what the writer produced (the file itself, or the OCI layer, gunzipped).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ImageTree, type NodeMeta, type TreeNode } from '../tree/index.js';
import { writeOutputs } from './index.js';
import type { ImageSpec, OutputResult, OutputWriter } from './types.js';

export const run = promisify(execFile);

export const EPOCH = 1_700_000_000;
/** A time before SOURCE_DATE_EPOCH (kept) and one after it (clamped). */
const PAST = EPOCH - 86_400;
const FUTURE = EPOCH + 86_400;

export const CONTRACT_IMAGE: ImageSpec = {
  name: 'contract',
  architecture: 'amd64',
  entrypoint: ['/usr/bin/ping'],
  cmd: ['127.0.0.1'],
  user: '33:33',
  env: { PATH: '/usr/sbin:/usr/bin', LANG: 'C.UTF-8' },
  workdir: '/var/www',
  exposedPorts: ['80/tcp', '53/udp'],
  labels: { 'org.opencontainers.image.title': 'contract' },
};

/** `security.capability` v2 granting cap_net_raw (bit 13), effective: what `setcap cap_net_raw=ep` stores. */
export const CAP_NET_RAW = Buffer.from('0100000200200000000000000000000000000000', 'hex');
/** A user xattr with every byte a careless encoder breaks on. */
const TRICKY_XATTR = Buffer.from([0x61, 0x00, 0x0a, 0x3d, 0xff, 0x20, 0x7f]);

const LONG_150 = `usr/share/${'d'.repeat(60)}/${'e'.repeat(60)}/file-150`;
const LONG_300 = `usr/share/${'x'.repeat(100)}/${'y'.repeat(100)}/${'z'.repeat(80)}`;
const LONG_COMPONENT = `usr/share/${'n'.repeat(120)}`;
const LONG_TARGET = `/usr/share/${'t'.repeat(150)}/target`;

function meta(mode: number, uid = 0, gid = 0, mtime = PAST): NodeMeta {
  return { mode, uid, gid, mtime };
}

/** Bytes that are not a multiple of 512 long and not all the same. */
function pattern(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

export function contractTree(): ImageTree {
  const t = new ImageTree();
  t.mkdirp('etc', meta(0o755));
  t.writeFile('etc/hostname', 'contract\n', meta(0o644));
  t.symlink('etc/localtime', '/usr/share/zoneinfo/Etc/UTC', meta(0o777));
  t.mkdirp('tmp', meta(0o1777));
  t.mkdirp('usr/bin', meta(0o755));
  t.symlink('bin', 'usr/bin', meta(0o777));
  t.writeFile('usr/bin/sudo', pattern(70_001, 1), meta(0o4755));
  t.writeFile('usr/bin/wall', pattern(3_000, 2), meta(0o2755, 0, 5));
  t.writeFile('usr/bin/ping', pattern(1_048_577, 3), { ...meta(0o755), xattrs: new Map([['security.capability', CAP_NET_RAW]]) });
  // The link sorts before its target: the first name carries the data.
  t.writeFile('usr/bin/z-target', 'shared by two names\n', meta(0o755));
  t.put('usr/bin/a-link', { kind: 'hardlink', target: 'usr/bin/z-target', ...meta(0o755) });
  // A chain: third → second → first.
  t.writeFile('usr/lib/first', 'three names\n', meta(0o644, 0, 0, FUTURE));
  t.put('usr/lib/second', { kind: 'hardlink', target: 'usr/lib/first', ...meta(0o644) });
  t.put('usr/lib/third', { kind: 'hardlink', target: 'usr/lib/second', ...meta(0o644) });
  t.writeFile('usr/lib/empty', Buffer.alloc(0), meta(0o600));
  t.writeFile(LONG_150, 'over 100 bytes of path\n', meta(0o644));
  t.writeFile(LONG_300, 'over 255 bytes of path\n', meta(0o644));
  t.writeFile(LONG_COMPONENT, 'a 120-byte file name\n', meta(0o644));
  t.symlink('usr/share/long-link', LONG_TARGET, meta(0o777));
  t.put(`${LONG_300}-hardlink`, { kind: 'hardlink', target: LONG_300, ...meta(0o644) });
  t.writeFile('usr/share/doc/café/naïve.txt', 'non-ASCII\n', meta(0o644));
  t.writeFile('usr/share/tricky', 'binary xattr\n', { ...meta(0o644), xattrs: new Map([['user.jeos', TRICKY_XATTR]]) });
  t.put('dev/null', { kind: 'char', major: 1, minor: 3, ...meta(0o666) });
  t.put('dev/sda', { kind: 'block', major: 8, minor: 0, ...meta(0o660, 0, 6) });
  t.put('dev/wide', { kind: 'char', major: 4095, minor: 1_048_575, ...meta(0o600) });
  t.put('run/initctl', { kind: 'fifo', ...meta(0o600) });
  t.mkdirp('var/www', meta(0o750, 33, 33, FUTURE));
  t.writeFile('var/www/index.html', '<h1>hello</h1>\n', meta(0o640, 33, 33, FUTURE));
  t.mkdirp('home/big', meta(0o700, 3_000_000, 3_000_001));
  return t;
}

/** Every file under dir (relative path → bytes hash), for byte-for-byte comparisons of whole outputs. */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    const parent = (e as unknown as { parentPath?: string; path: string }).parentPath ?? (e as unknown as { path: string }).path;
    const full = join(parent, e.name);
    const rel = full.slice(dir.length + 1);
    out.set(rel, e.isFile() ? createHash('sha256').update(await readFile(full)).digest('hex') : e.isDirectory() ? 'dir' : 'other');
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

interface PyMember {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, string>;
  sha256: string | null;
}

const PY_LIST = `
import hashlib, json, sys, tarfile
out = []
with tarfile.open(sys.argv[1], encoding='utf-8') as t:
    for m in t:
        data = t.extractfile(m).read() if m.isreg() else None
        out.append(dict(name=m.name, type=m.type.decode(), mode=m.mode, uid=m.uid, gid=m.gid, mtime=int(m.mtime),
            size=m.size, linkname=m.linkname, devmajor=m.devmajor, devminor=m.devminor,
            xattrs={k[len('SCHILY.xattr.'):]: v.encode('utf-8', 'surrogateescape').hex()
                    for k, v in m.pax_headers.items() if k.startswith('SCHILY.xattr.')},
            sha256=hashlib.sha256(data).hexdigest() if data is not None else None))
json.dump(out, sys.stdout)
`;

const TYPE_OF: Record<string, string> = { file: '0', dir: '5', symlink: '2', char: '3', block: '4', fifo: '6' };

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Python's view of the tar must be the tree, entry for entry, in tree order. */
async function checkWithPython(tarPath: string, tree: ImageTree): Promise<void> {
  const { stdout } = await run('python3', ['-c', PY_LIST, tarPath], { maxBuffer: 64 << 20 });
  const members = JSON.parse(stdout) as PyMember[];
  const byName = new Map(members.map((m) => [m.name, m]));
  const expected = tree.entries().filter(([p]) => p !== '');
  assert.deepEqual(
    members.map((m) => m.name),
    expected.map(([p]) => p),
    'one entry per tree node, in tree order, without ./ and without the root',
  );
  for (const [path, node] of expected) {
    const m = byName.get(path)!;
    if (node.kind === 'hardlink') continue; // checked by name below
    const data = node.kind === 'file' ? node.data : undefined;
    if (data && m.type === '1') continue; // a file whose first name is a hardlink
    assert.equal(m.type, TYPE_OF[node.kind], `${path}: type`);
    assert.equal(m.mode, node.mode, `${path}: mode`);
    assert.equal(m.uid, node.uid, `${path}: uid`);
    assert.equal(m.gid, node.gid, `${path}: gid`);
    assert.equal(m.mtime, Math.min(node.mtime, EPOCH), `${path}: mtime clamped to SOURCE_DATE_EPOCH`);
    if (data) {
      assert.equal(m.size, data.length, `${path}: size`);
      assert.equal(m.sha256, sha256(data), `${path}: contents`);
    }
    if (node.kind === 'symlink') assert.equal(m.linkname, node.target, `${path}: link target`);
    if (node.kind === 'char' || node.kind === 'block') assert.deepEqual([m.devmajor, m.devminor], [node.major, node.minor], `${path}: device`);
    const xattrs = Object.fromEntries([...(node.xattrs ?? new Map<string, Buffer>())].map(([k, v]) => [k, v.toString('hex')]));
    assert.deepEqual(m.xattrs, xattrs, `${path}: xattrs`);
  }
  // Hardlinks: the first name in tree order carries the data, later names point at it.
  const aLink = byName.get('usr/bin/a-link')!;
  assert.equal(aLink.type, '0');
  assert.equal(aLink.sha256, sha256('shared by two names\n'));
  assert.deepEqual([byName.get('usr/bin/z-target')!.type, byName.get('usr/bin/z-target')!.linkname], ['1', 'usr/bin/a-link']);
  assert.equal(byName.get('usr/lib/first')!.type, '0');
  for (const name of ['usr/lib/second', 'usr/lib/third']) assert.deepEqual([byName.get(name)!.type, byName.get(name)!.linkname], ['1', 'usr/lib/first']);
  assert.equal(byName.get('usr/lib/first')!.mtime, EPOCH);
  assert.deepEqual([byName.get(`${LONG_300}-hardlink`)!.type, byName.get(`${LONG_300}-hardlink`)!.linkname], ['1', LONG_300]);
}

/** GNU tar lists it without complaint, with numeric owners and the right types. */
async function checkGnuListing(tarPath: string, tree: ImageTree): Promise<void> {
  const { stdout, stderr } = await run('tar', ['--numeric-owner', '--full-time', '-tvf', tarPath], { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' }, maxBuffer: 64 << 20 });
  assert.equal(stderr, '');
  const lines = stdout.trimEnd().split('\n');
  assert.equal(lines.length, tree.size - 1);
  const line = (name: string) => lines.find((l) => l.endsWith(` ${name}`) || l.includes(` ${name} `)) ?? assert.fail(`no line for ${name}:\n${stdout}`);
  assert.match(line('usr/bin/sudo'), /^-rwsr-xr-x 0\/0 +70001 2023-11-13 22:13:20 usr\/bin\/sudo$/);
  assert.match(line('tmp/'), /^drwxrwxrwt 0\/0 /);
  assert.match(line('var/www/'), /^drwxr-x--- 33\/33 +0 2023-11-14 22:13:20 var\/www\/$/);
  assert.match(line('home/big/'), /^drwx------ 3000000\/3000001 /);
  assert.match(line('dev/null'), /^crw-rw-rw- 0\/0 +1,3 /);
  assert.match(line('dev/sda'), /^brw-rw---- 0\/6 +8,0 /);
  assert.match(line('dev/wide'), /^crw------- 0\/0 +4095,1048575 /);
  assert.match(line('run/initctl'), /^prw------- 0\/0 /);
  assert.match(line('bin'), / bin -> usr\/bin$/);
  assert.match(line('usr/bin/z-target'), /^hrwxr-xr-x .* usr\/bin\/z-target link to usr\/bin\/a-link$/);
  assert.match(line(LONG_300), new RegExp(` ${LONG_300}$`));
  assert.match(line('usr/share/long-link'), new RegExp(` -> ${LONG_TARGET}$`));
}

/** The node holding a hardlink's inode metadata (following chains). */
function fileOf(tree: ImageTree, node: TreeNode): TreeNode {
  let n = node;
  while (n.kind === 'hardlink') n = tree.get(n.target)!;
  return n;
}

function major(rdev: number): number {
  return Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
}
function minor(rdev: number): number {
  return Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn);
}

/** Extracted by GNU tar as root: the files on disk are the tree. */
async function checkGnuExtract(tarPath: string, tree: ImageTree): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'jeos-contract-x-'));
  try {
    await run('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', tarPath, '-C', dir]);
    for (const [path, node] of tree.entries()) {
      if (path === '') continue;
      const full = join(dir, path);
      const st = await lstat(full);
      const expectKind = node.kind === 'hardlink' ? 'file' : node.kind;
      const isKind = { file: st.isFile(), dir: st.isDirectory(), symlink: st.isSymbolicLink(), char: st.isCharacterDevice(), block: st.isBlockDevice(), fifo: st.isFIFO() };
      assert.ok(isKind[expectKind], `${path}: extracted as a ${expectKind}`);
      const inode = fileOf(tree, node);
      assert.deepEqual([st.uid, st.gid], [inode.uid, inode.gid], `${path}: owner`);
      if (node.kind !== 'symlink') assert.equal(st.mode & 0o7777, inode.mode, `${path}: mode`);
      assert.equal(Math.floor(st.mtimeMs / 1000), Math.min(inode.mtime, EPOCH), `${path}: mtime`);
      if (node.kind === 'symlink') assert.equal(await readlink(full), node.target);
      if (node.kind === 'char' || node.kind === 'block') assert.deepEqual([major(st.rdev), minor(st.rdev)], [node.major, node.minor], `${path}: device numbers`);
      if (node.kind === 'file') assert.equal(sha256(await readFile(full)), sha256(node.data), `${path}: contents`);
    }
    const ino = async (p: string) => (await lstat(join(dir, p))).ino;
    assert.equal(await ino('usr/bin/a-link'), await ino('usr/bin/z-target'));
    assert.equal(await ino('usr/lib/third'), await ino('usr/lib/first'));
    assert.equal((await lstat(join(dir, 'usr/lib/first'))).nlink, 3);
    const { stdout } = await run('python3', [
      '-c',
      'import os,sys,json; print(json.dumps({p: os.getxattr(os.path.join(sys.argv[1], p), n).hex() for p, n in [("usr/bin/ping", "security.capability"), ("usr/share/tricky", "user.jeos")]}))',
      dir,
    ]);
    assert.deepEqual(JSON.parse(stdout), { 'usr/bin/ping': CAP_NET_RAW.toString('hex'), 'usr/share/tricky': TRICKY_XATTR.toString('hex') });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface ContractSubject {
  writer: OutputWriter;
  /** Path of the uncompressed rootfs tar inside what the writer wrote (may extract into `scratch`). */
  rootfsTar(outDir: string, result: OutputResult, scratch: string): Promise<string>;
}

export function outputContract(name: string, subject: ContractSubject): void {
  describe(`output contract: ${name}`, () => {
    let work: string;
    let tree: ImageTree;
    let result: OutputResult;
    let tarPath: string;

    before(async () => {
      work = await mkdtemp(join(tmpdir(), `jeos-contract-${name}-`));
      tree = contractTree();
      const results = await writeOutputs(tree, CONTRACT_IMAGE, [subject.writer], { outDir: join(work, 'a'), sourceDateEpoch: EPOCH });
      assert.equal(results.length, 1);
      result = results[0]!;
      tarPath = await subject.rootfsTar(join(work, 'a'), result, join(work, 'scratch-a'));
    });
    after(() => rm(work, { recursive: true, force: true }));

    test('same tree, same bytes: twice, and from a tree built again', async () => {
      const [again] = await writeOutputs(contractTree(), CONTRACT_IMAGE, [subject.writer], { outDir: join(work, 'b'), sourceDateEpoch: EPOCH });
      assert.deepEqual(again, result);
      const a = await snapshot(join(work, 'a'));
      assert.deepEqual(await snapshot(join(work, 'b')), a);
      assert.deepEqual(
        [...a.keys()].filter((k) => !k.includes('/')),
        [result.path],
        'outDir holds only the output (no staging leftovers)',
      );
      for (const f of result.files) assert.equal(a.get(f.path), f.sha256, `${f.path}: recorded digest`);
    });

    test('a different SOURCE_DATE_EPOCH changes the bytes', async () => {
      const [other] = await writeOutputs(contractTree(), CONTRACT_IMAGE, [subject.writer], { outDir: join(work, 'c'), sourceDateEpoch: EPOCH - 1 });
      assert.notDeepEqual(other!.files, result.files);
    });

    test('Python tarfile reads every entry as the tree has it', () => checkWithPython(tarPath, tree));

    test('GNU tar lists owners, modes, devices, links and long names', () => checkGnuListing(tarPath, tree));

    test('GNU tar extracts it as root: owners, modes, times, devices, fifo, hardlinks, binary xattrs', { skip: process.getuid?.() !== 0 && 'needs root' }, () =>
      checkGnuExtract(tarPath, tree),
    );

    test('the tar ends with two zero blocks after whole 512-byte blocks', async () => {
      const bytes = await readFile(tarPath);
      assert.equal(bytes.length % 512, 0);
      assert.ok(bytes.subarray(-1024).equals(Buffer.alloc(1024)));
      assert.notDeepEqual(bytes.subarray(-1536, -1024), Buffer.alloc(512));
    });
  });
}
