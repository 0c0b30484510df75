/**
 * The dynamic linker cache: /etc/ld.so.cache in glibc's "glibc-ld.so.cache1.1"
 * format, built the way `ldconfig -r ROOT` builds it, so the bytes match what the
 * image's own ldconfig would write. Missing soname symlinks are made as ldconfig
 * makes them. The rules are those of glibc 2.39 and later (trixie's 2.41):
 * glibc-hwcaps subdirectories, *.dpkg-new/*.dpkg-tmp skipped, every ELF library
 * flagged libc6. Bookworm's 2.36 differs only in corner cases: it also reads
 * legacy hwcap directories (tls, haswell, …), does not skip *.dpkg-new, and flags
 * a 32-bit library that does not link libc.so.6 as plain ELF.
 *
 * Directories: those in /etc/ld.so.conf (following `include` globs, in order),
 * then Debian's built-in /lib/<triplet>, /usr/lib/<triplet>, /lib, /usr/lib; a
 * directory reached twice (merged /usr) keeps its first name.
 */
import type { ImageTree } from '../../tree/index.js';
import { EM_386, EM_X86_64, readElf, type ElfInfo } from '../../elf/index.js';
import { globToRegExp } from '../shell/interpret.js';
import type { EffectReport } from '../types.js';
import { Changes, madeMeta, type EffectContext } from './context.js';
import { libcmp, serializeCache, type CacheEntry } from './ld-so-cache.js';

export { libcmp } from './ld-so-cache.js';

interface ArchInfo {
  triplet: string;
  /** The cache flags ldconfig gives a library, or undefined when it skips it. */
  flags(elf: ElfInfo): number | undefined;
  /** Whether C `char` is signed (it matters to _dl_cache_libcmp). */
  signedChar: boolean;
  /** Smallest file ldconfig will look at: sizeof (ElfW(Ehdr)). */
  minSize: number;
}

const FLAG_ELF_LIBC6 = 0x0003;
const x86 = (elf: ElfInfo): number | undefined =>
  elf.machine === EM_X86_64 ? (elf.class === 64 ? 0x0303 : 0x0803) : elf.machine === EM_386 && elf.class === 32 ? FLAG_ELF_LIBC6 : undefined;
const arm = (elf: ElfInfo): number | undefined => {
  if (elf.class === 64) return 0x0a03;
  if (elf.flags >>> 24 !== 5) return FLAG_ELF_LIBC6; // EF_ARM_EABI_VER5
  if (elf.flags & 0x400) return 0x0903; // EF_ARM_ABI_FLOAT_HARD
  if (elf.flags & 0x200) return 0x0b03; // EF_ARM_ABI_FLOAT_SOFT
  return FLAG_ELF_LIBC6;
};

const ARCHES: Record<string, ArchInfo> = {
  amd64: { triplet: 'x86_64-linux-gnu', flags: x86, signedChar: true, minSize: 64 },
  i386: { triplet: 'i386-linux-gnu', flags: x86, signedChar: true, minSize: 52 },
  arm64: { triplet: 'aarch64-linux-gnu', flags: arm, signedChar: false, minSize: 64 },
  armhf: { triplet: 'arm-linux-gnueabihf', flags: arm, signedChar: false, minSize: 52 },
};

interface DirEntry {
  /** The path as configured (what the cache records). */
  path: string;
  /** Where it really is in the tree. */
  real: string;
  hwcaps?: string;
}

export interface LdCacheResult {
  cache: Buffer;
  entries: Array<{ soname: string; path: string; flags: number; hwcaps?: string }>;
  links: string[];
}

export function configureLdSo(ctx: EffectContext): EffectReport {
  const changes = new Changes();
  const arch = ARCHES[ctx.options.architecture];
  if (!arch) {
    for (const r of ctx.actions) if (r.action.kind === 'ldconfig') r.failed = `ld.so.cache is not built for ${ctx.options.architecture}`;
    return changes.report('ld-so', `not built: ldconfig's rules for ${ctx.options.architecture} are not implemented`);
  }
  const result = buildLdCache(ctx.tree, ctx.options.architecture, generatorFor(ctx));
  if (result.entries.length === 0 && !ctx.actions.some((r) => r.action.kind === 'ldconfig')) {
    return changes.report('ld-so', 'no shared libraries in the image; no cache written');
  }
  for (const l of result.links) changes.add(l);
  ctx.tree.writeFile('etc/ld.so.cache', result.cache, madeMeta(ctx.options, 0o644));
  changes.add('etc/ld.so.cache');
  return changes.report('ld-so', `${result.entries.length} libraries in /etc/ld.so.cache${result.links.length ? `, ${result.links.length} soname links made` : ''}`);
}

/** The generator string the image's own ldconfig writes (from the libc-bin or libc6 version). */
function generatorFor(ctx: EffectContext): string {
  return ldconfigGenerator(ctx.packages);
}

/** The multiarch triplet of a Debian architecture (`amd64` → `x86_64-linux-gnu`), for the architectures ld.so.cache is built for. */
export function tripletOf(architecture: string): string | undefined {
  return ARCHES[architecture]?.triplet;
}

/** The generator string ldconfig writes into the cache, from the image's glibc version. */
export function ldconfigGenerator(packages: ReadonlyArray<{ name: string; version: string }>): string {
  const libc = packages.find((p) => p.name === 'libc-bin') ?? packages.find((p) => p.name === 'libc6');
  if (!libc) return 'ldconfig (jeos)';
  const upstream = libc.version.replace(/^\d+:/, '').replace(/-[^-]*$/, '');
  return `ldconfig (Debian GLIBC ${libc.version.replace(/^\d+:/, '')}) stable release version ${upstream}`;
}

export function buildLdCache(tree: ImageTree, architecture: string, generator: string): LdCacheResult {
  const arch = ARCHES[architecture];
  if (!arch) throw new Error(`no ldconfig rules for ${architecture}`);
  const strings = new Set<string>(); // hwcaps names interned on discovery (they are in the table even when unused)
  const dirs = searchDirs(tree, arch, strings);
  const entries: CacheEntry[] = [];
  const links: string[] = [];
  for (const dir of dirs) searchDir(tree, arch, dir, entries, links);

  const cmp = (a: CacheEntry, b: CacheEntry): number => {
    const res = libcmp(b.lib, a.lib, arch.signedChar);
    if (res !== 0) return res;
    if (a.flags !== b.flags) return a.flags < b.flags ? 1 : -1;
    if (a.hwcaps !== undefined && b.hwcaps === undefined) return -1;
    if (a.hwcaps === undefined && b.hwcaps !== undefined) return 1;
    if (a.hwcaps !== undefined && b.hwcaps !== undefined) return Buffer.compare(Buffer.from(a.hwcaps), Buffer.from(b.hwcaps));
    return 0;
  };
  entries.sort(cmp); // stable: equal entries keep the order they were added in, as ldconfig's insertion does

  return {
    cache: serializeCache(entries, strings, generator),
    entries: entries.map((e) => ({ soname: e.lib.toString('latin1'), path: e.path.toString(), flags: e.flags, ...(e.hwcaps ? { hwcaps: e.hwcaps } : {}) })),
    links,
  };
}

function searchDirs(tree: ImageTree, arch: ArchInfo, strings: Set<string>): DirEntry[] {
  const dirs: DirEntry[] = [];
  const add = (line: string): void => {
    const path = line.replace(/\s+$/, '').replace(/\/+$/, '');
    if (!path) return;
    const real = realDir(tree, path);
    if (real === undefined) return;
    if (dirs.some((d) => d.real === real)) return;
    const entry: DirEntry = { path, real };
    dirs.push(entry);
    // glibc-hwcaps subdirectories of a newly added directory.
    const hw = `${real === '' ? '' : `${real}/`}glibc-hwcaps`;
    if (!tree.isDir(hw)) return;
    for (const name of tree.list(hw)) {
      const node = tree.get(`${hw}/${name}`);
      if (name.startsWith('.') || name.includes(':') || !node || node.kind === 'file' || node.kind === 'hardlink') continue;
      const subReal = realDir(tree, `/${hw}/${name}`);
      if (subReal === undefined) continue;
      strings.add(name);
      if (dirs.some((d) => d.real === subReal)) continue;
      dirs.push({ path: `${path}/glibc-hwcaps/${name}`, real: subReal, hwcaps: name });
    }
  };
  parseConf(tree, '/etc/ld.so.conf', add, 0);
  for (const d of [`/lib/${arch.triplet}`, `/usr/lib/${arch.triplet}`, '/lib', '/usr/lib']) add(d);
  return dirs;
}

function realDir(tree: ImageTree, path: string): string | undefined {
  try {
    const real = tree.resolve(path, { followLast: true });
    return tree.get(real)?.kind === 'dir' ? real : undefined;
  } catch {
    return undefined;
  }
}

function parseConf(tree: ImageTree, file: string, add: (line: string) => void, depth: number): void {
  if (depth > 16) return;
  let text: string | undefined;
  try {
    text = tree.readFile(file)?.toString('latin1');
  } catch {
    return;
  }
  if (text === undefined) return;
  for (let line of text.split('\n')) {
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    line = line.replace(/^\s+/, '');
    if (!line) continue;
    if (/^include[ \t]/.test(line)) {
      for (const pattern of line.slice(8).split(/[ \t]/)) {
        if (!pattern) continue;
        const full = pattern.startsWith('/') ? pattern : `${file.slice(0, file.lastIndexOf('/'))}/${pattern}`;
        for (const match of glob(tree, full)) parseConf(tree, match, add, depth + 1);
      }
    } else if (/^hwcap[ \t]/i.test(line)) {
      continue;
    } else {
      add(line);
    }
  }
}

/** glob(3) over the tree: sorted matches, `*` not matching a leading dot. */
function glob(tree: ImageTree, pattern: string): string[] {
  let current = [''];
  const parts = pattern.split('/').filter(Boolean);
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    const next: string[] = [];
    for (const base of current) {
      if (!/[*?[]/.test(part)) {
        next.push(`${base}/${part}`);
        continue;
      }
      const re = globToRegExp(part);
      if (re === undefined || !tree.isDir(base || '/')) continue;
      const matcher = new RegExp(`^${re}$`, 's');
      for (const name of tree.list(base || '')) if (!name.startsWith('.') && matcher.test(name)) next.push(`${base}/${name}`);
    }
    current = last ? next : next.filter((p) => tree.isDir(p));
  }
  return current.filter((p) => tree.stat(p) !== undefined).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function isDsoName(name: string): boolean {
  return ((name.startsWith('lib') || name.startsWith('ld-')) && name.includes('.so')) || name.startsWith('ld.so.') || name.startsWith('ld64.so.');
}

function skipByName(name: string): boolean {
  return name.endsWith('.#prelink#') || /\.#prelink#\.[^/]{6}$/.test(name) || name.includes(';') || name.endsWith('.dpkg-new') || name.endsWith('.dpkg-tmp');
}

interface Dlib {
  name: string;
  soname: Buffer;
  flags: number;
  isLink: boolean;
  isaLevel: number;
}

function searchDir(tree: ImageTree, arch: ArchInfo, dir: DirEntry, entries: CacheEntry[], links: string[]): void {
  const prefix = dir.real === '' ? '' : `${dir.real}/`;
  let dlibs: Dlib[] = []; // newest first, as ldconfig prepends
  for (const name of tree.list(dir.real)) {
    const node = tree.get(prefix + name);
    if (!node) continue;
    const type = node.kind === 'file' || node.kind === 'hardlink' ? 'reg' : node.kind === 'symlink' ? 'lnk' : node.kind === 'dir' ? 'dir' : undefined;
    if (!type) continue;
    if (!isDsoName(name) && (type === 'reg' || dir.hwcaps === undefined)) continue;
    if (skipByName(name)) continue;
    let isLink = type === 'lnk';
    let target;
    try {
      target = tree.stat(prefix + name);
    } catch {
      continue;
    }
    if (!target) continue;
    if (type === 'dir') continue;
    const data = tree.readFile(prefix + name);
    if (!data || data.length < Math.max(32, arch.minSize)) continue;
    let elf: ElfInfo | undefined;
    try {
      elf = readElf(data, name);
    } catch {
      continue;
    }
    // Every architecture handled here is little-endian: ldconfig would misread a big-endian header.
    if (!elf || elf.endian !== 'little' || elf.type !== 3 || !elf.dynamic || !elf.dynamicStrings) continue;
    const flags = arch.flags(elf);
    if (flags === undefined) continue;
    const nameBytes = Buffer.from(name);
    let soname = elf.soname !== undefined ? Buffer.from(elf.soname, 'latin1') : nameBytes;
    if (isLink && !soname.equals(nameBytes)) {
      // A link that is neither the soname nor a libfoo.so development link counts as a file.
      if (!(name.endsWith('.so') && soname.subarray(0, nameBytes.length).equals(nameBytes))) isLink = false;
    }
    if (isLink) soname = nameBytes;
    const existing = dlibs.find((d) => d.soname.equals(soname));
    if (existing) {
      if ((!isLink && existing.isLink) || (isLink === existing.isLink && libcmp(Buffer.from(existing.name), nameBytes, arch.signedChar) < 0)) {
        existing.name = name;
        existing.isLink = isLink;
        existing.isaLevel = elf.isaLevel;
      }
      continue;
    }
    dlibs = [{ name, soname, flags, isLink, isaLevel: elf.isaLevel }, ...dlibs];
  }
  for (const d of dlibs) {
    let filename: Buffer;
    if (dir.hwcaps === undefined) {
      if (!d.isLink) createLink(tree, prefix, d.name, d.soname.toString('latin1'), links);
      filename = d.soname;
    } else {
      filename = Buffer.from(d.name);
    }
    entries.push({
      lib: d.soname,
      path: Buffer.concat([Buffer.from(`${dir.path}/`), filename]),
      flags: d.flags,
      isaLevel: d.isaLevel,
      ...(dir.hwcaps !== undefined ? { hwcaps: dir.hwcaps } : {}),
    });
  }
}

/** ldconfig's create_links: make SONAME → NAME unless SONAME already leads to that file or is not a symlink. */
function createLink(tree: ImageTree, prefix: string, name: string, soname: string, links: string[]): void {
  if (soname.includes('/') || soname === name) return;
  const real = (p: string): string | undefined => {
    try {
      const r = tree.resolve(p, { followLast: true });
      const n = tree.get(r);
      return n?.kind === 'hardlink' ? n.target : n ? r : undefined;
    } catch {
      return undefined;
    }
  };
  const soPath = prefix + soname;
  const soReal = real(soPath);
  if (soReal !== undefined && soReal === real(prefix + name)) return;
  const existing = tree.get(soPath);
  if (existing && existing.kind !== 'symlink') return;
  const lib = tree.get(prefix + name)!;
  tree.symlink(soPath, name, { mode: 0o777, uid: 0, gid: 0, mtime: lib.mtime });
  links.push(soPath);
}
