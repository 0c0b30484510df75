// Hostile packages: a .deb that passed every signature (the lock names its digest) but holds a
// decompression bomb, names dpkg and the kernel cannot take, or device nodes. Each plant puts the
// bad .deb where the served repository has webd's and points the copy's jeos.lock at it, as a
// compromised build of a signed package would; restore puts the good .deb back.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compress, handDeb, tarHeader, type HandEntry } from '../../support/unpack/test-helpers.js';
import { PROJECT_YAML, type HostileCase, type HostileContext } from '../harness.js';

const MiB = 2 ** 20;
const BLOCK = 64 * MiB;
type Compression = 'xz' | 'zstd' | 'gzip';

const blocks = new Map<Compression, Buffer>();
/**
 * A data.tar of one file of `gib` GiB of zeros, made without ever holding it: the tar header,
 * then one compressed 64 MiB block of zeros repeated (xz streams, zstd frames and gzip members
 * may follow one another; the decompressor joins their output), then the end-of-archive blocks.
 */
function bomb(compression: Compression, gib: number): Buffer {
  const count = (gib * 1024 * MiB) / BLOCK;
  let block = blocks.get(compression);
  if (!block) blocks.set(compression, (block = compress(Buffer.alloc(BLOCK), compression)));
  const header = tarHeader({ name: './usr/share/webd/zeros' }, count * BLOCK);
  return Buffer.concat([compress(header, compression), ...Array<Buffer>(count).fill(block), compress(Buffer.alloc(1024), compression)]);
}

const control = (installedSize: number) => `Package: webd\nVersion: 1.0-1\nArchitecture: amd64\nInstalled-Size: ${installedSize}\nDepends: libweb\nDescription: hostile\n`;
const entries = (...rest: HandEntry[]): HandEntry[] => [
  { name: './', type: '5', mode: 0o755 },
  { name: './usr/', type: '5', mode: 0o755 },
  { name: './usr/sbin/', type: '5', mode: 0o755 },
  { name: './usr/sbin/webd', mode: 0o755, data: '#!/bin/sh\necho webd\n' },
  ...rest,
];

const withDevice = () =>
  handDeb({ control: control(8), entries: entries({ name: './dev/', type: '5' }, { name: './dev/sda', type: '4', mode: 0o660, devmajor: 8, devminor: 0 }) });

/** Serve `deb` as webd's package and lock the copy to it; what restore needs to undo that. */
let served: { path: string; good: Buffer } | undefined;
async function serveAsWebd(ctx: HostileContext, deb: Buffer): Promise<void> {
  const lockPath = join(ctx.project, 'jeos.lock');
  const lock = JSON.parse(await readFile(lockPath, 'utf8'));
  const entry = lock.packages.find((p: { name: string }) => p.name === 'webd');
  const path = join(ctx.h.repo.root, entry.filename);
  served = { path, good: await readFile(path) };
  await writeFile(path, deb);
  entry.sha256 = createHash('sha256').update(deb).digest('hex');
  entry.size = deb.length;
  await writeFile(lockPath, JSON.stringify(lock, null, 2) + '\n');
}
async function restoreWebd(): Promise<void> {
  if (served) await writeFile(served.path, served.good);
  served = undefined;
}

const hostileDeb = (name: string, code: string, mention: RegExp, deb: () => Buffer, extra: Partial<HostileCase> = {}): HostileCase => ({
  name,
  code,
  mention,
  cacheMayGrow: true,
  plant: (ctx) => serveAsWebd(ctx, deb()),
  restore: restoreWebd,
  ...extra,
});

export const debCases: HostileCase[] = [
  hostileDeb(
    'a 3 GiB data.tar.xz of zeros in a .deb of a few hundred KiB (its xz index says so: refused before xz runs)',
    'E_DEB_TOO_LARGE',
    /webd_1\.0-1_amd64: member data\.tar\.xz says in its xz index that it expands to 3072\.0 MiB, past 16\.0 MiB.*Installed-Size: 8 KiB/,
    () => handDeb({ control: control(8), compression: 'xz', dataMember: bomb('xz', 3) }),
    { maxRssMiB: 256 },
  ),
  hostileDeb(
    'a 5 GiB data.tar.zst of zeros declaring 8 KiB (refused while it streams)',
    'E_DEB_TOO_LARGE',
    /webd_1\.0-1_amd64: member data\.tar\.zst expands past 16\.0 MiB.*Installed-Size: 8 KiB/,
    () => handDeb({ control: control(8), compression: 'zstd', dataMember: bomb('zstd', 5) }),
    { maxRssMiB: 256 },
  ),
  hostileDeb(
    'a 5 GiB data.tar.zst of zeros declaring 10 GiB (refused at the 512 MiB ceiling, never held)',
    'E_DEB_TOO_LARGE',
    /webd_1\.0-1_amd64: member data\.tar\.zst expands past 512\.0 MiB, the ceiling.*Installed-Size: 10485760 KiB/,
    () => handDeb({ control: control(10 * 1024 * 1024), compression: 'zstd', dataMember: bomb('zstd', 5) }),
    { maxRssMiB: 384 },
  ),
  hostileDeb(
    'a 3 GiB data.tar.gz of zeros declaring 8 KiB (zlib, refused while it streams)',
    'E_DEB_TOO_LARGE',
    /webd_1\.0-1_amd64: member data\.tar\.gz expands past 16\.0 MiB/,
    () => handDeb({ control: control(8), compression: 'gzip', dataMember: bomb('gzip', 3) }),
    { maxRssMiB: 256 },
  ),
  hostileDeb(
    'an entry name with a newline, which would forge the dpkg file list (dpkg -S /etc/shadow)',
    'E_DEB_BAD_NAME',
    /webd_1\.0-1_amd64: entry "\.\/usr\/sbin\/webd-helper\\n\/etc\/shadow": its name holds a control character \(U\+000A\)/,
    () => handDeb({ control: control(8), entries: entries({ name: './placeholder', data: 'x', pax: { path: './usr/sbin/webd-helper\n/etc/shadow' } }) }),
  ),
  hostileDeb(
    'an entry name component over NAME_MAX',
    'E_DEB_NAME_TOO_LONG',
    /webd_1\.0-1_amd64: entry .* is 300 bytes long, past NAME_MAX/,
    () => handDeb({ control: control(8), entries: entries({ name: './placeholder', data: 'x', pax: { path: `./usr/share/${'n'.repeat(300)}` } }) }),
  ),
  hostileDeb(
    'an entry path over PATH_MAX',
    'E_DEB_NAME_TOO_LONG',
    /webd_1\.0-1_amd64: entry .*past PATH_MAX/,
    () => handDeb({ control: control(8), entries: entries({ name: './placeholder', data: 'x', pax: { path: `./${Array(30).fill('d'.repeat(200)).join('/')}` } }) }),
  ),
  hostileDeb('a block device node in the data (Debian Policy forbids it)', 'E_DEB_SPECIAL_FILE', /webd_1\.0-1_amd64: entry "\.\/dev\/sda" is a block device \(8:0\)/, withDevice),
  hostileDeb(
    'a FIFO in the data',
    'E_DEB_SPECIAL_FILE',
    /webd_1\.0-1_amd64: entry "\.\/run\/webd\.fifo" is a FIFO/,
    () => handDeb({ control: control(8), entries: entries({ name: './run/', type: '5' }, { name: './run/webd.fifo', type: '6', mode: 0o666 }) }),
  ),
  {
    name: 'a device node kept because jeos.yaml says unpack.allowDevices: true',
    code: 'ok',
    cacheMayGrow: true,
    plant: async (ctx) => {
      await writeFile(join(ctx.project, 'jeos.yaml'), `${PROJECT_YAML}unpack:\n  allowDevices: true\n`);
      await serveAsWebd(ctx, withDevice());
    },
    restore: restoreWebd,
  },
];
