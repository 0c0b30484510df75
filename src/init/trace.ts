/**
 * What a program on this machine needs, traced the way the kernel and the dynamic
 * linker would start it: a script's `#!` interpreter, an ELF file's PT_INTERP and
 * DT_NEEDED libraries (found through DT_RPATH — its own and its loaders' — or
 * DT_RUNPATH, the machine's ld.so.conf and the default directories). A file that belongs to a
 * Debian package ends the trace there: the package's dependencies bring the rest.
 * Files that belong to none are copied into the image.
 */
import { readFile, readdir } from 'node:fs/promises';
import { posix } from 'node:path';
import { librarySearch, readElf, EM_386, EM_AARCH64, EM_ARM, EM_RISCV, EM_X86_64, type ElfInfo, type InheritedRpath } from '../elf/index.js';
import { JeosError } from '../errors.js';
import type { HostFs } from './host-fs.js';
import type { Owner, PackageFinder } from './owners.js';

/** Debian architecture → ELF machine, class and multiarch triplet. */
const ARCHES: Record<string, { machine: number; class: 32 | 64; triplet: string }> = {
  amd64: { machine: EM_X86_64, class: 64, triplet: 'x86_64-linux-gnu' },
  arm64: { machine: EM_AARCH64, class: 64, triplet: 'aarch64-linux-gnu' },
  i386: { machine: EM_386, class: 32, triplet: 'i386-linux-gnu' },
  armhf: { machine: EM_ARM, class: 32, triplet: 'arm-linux-gnueabihf' },
  armel: { machine: EM_ARM, class: 32, triplet: 'arm-linux-gnueabi' },
  riscv64: { machine: EM_RISCV, class: 64, triplet: 'riscv64-linux-gnu' },
};

export interface Traced {
  /** Files that belong to an archive package, with the package. */
  packaged: Map<string, Owner>;
  /** Files that belong to none, in the order they were reached: they go into the image as they are. */
  unpackaged: string[];
  /** For each file, what reached it (`/usr/local/bin/foo needs libbar.so.1`). */
  reason: Map<string, string>;
  /** Libraries the loader finds through a DT_RPATH or DT_RUNPATH, which the image keeps: they need no LD_LIBRARY_PATH. */
  onSearchPath: Set<string>;
}

const MAX_DEPTH = 16;
/** The PATH of an image's workload (src/build/image-spec.ts). */
const IMAGE_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export async function traceProgram(fs: HostFs, finder: PackageFinder, start: string, architecture: string): Promise<Traced> {
  const arch = ARCHES[architecture];
  const traced: Traced = { packaged: new Map(), unpackaged: [], reason: new Map([[start, 'the program']]), onSearchPath: new Set() };
  const seen = new Set([start]);
  // What each library's loader passed on (breadth first, as ld.so loads them: the first object to name it).
  const inherited = new Map<string, InheritedRpath>();
  let level = [start];
  for (let depth = 0; level.length && depth < MAX_DEPTH; depth++) {
    const owners = await finder.find(level);
    const next: string[] = [];
    for (const path of level) {
      const owner = owners.get(path);
      if (owner) {
        traced.packaged.set(path, owner);
        continue;
      }
      traced.unpackaged.push(path);
      for (const [dep, why, passed, viaSearchPath] of await needsOf(fs, path, arch, architecture, inherited.get(path))) {
        if (seen.has(dep)) continue;
        seen.add(dep);
        traced.reason.set(dep, why);
        if (passed) inherited.set(dep, passed);
        if (viaSearchPath) traced.onSearchPath.add(dep);
        next.push(dep);
      }
    }
    level = next;
  }
  return traced;
}

/** A file one needs: why, what it inherits (a library), and whether its loader's RPATH or RUNPATH found it. */
type Need = [path: string, why: string, inherited?: InheritedRpath, viaSearchPath?: boolean];

/** What one file needs to run: its `#!` interpreter, or its ELF interpreter and libraries (with what they inherit). */
async function needsOf(fs: HostFs, path: string, arch: (typeof ARCHES)[string] | undefined, architecture: string, inherited?: InheritedRpath): Promise<Need[]> {
  const data = await fs.read(path);
  if (data.subarray(0, 2).toString('latin1') === '#!') {
    const { interpreter, program } = await scriptInterpreter(fs, path, data);
    const out: Need[] = [[interpreter, `${path} is a script run by it (#!)`]];
    if (program) out.push([program, `${path} runs it through ${interpreter} (#!)`]);
    return out;
  }
  const elf = readElf(data, path);
  if (!elf) return [];
  if (arch && (elf.machine !== arch.machine || elf.class !== arch.class)) {
    throw new JeosError('E_INIT_ARCH_MISMATCH', `${path} is not built for ${architecture} (ELF machine ${elf.machine}, ${elf.class}-bit)`, {
      hint: `choose the image's architecture with --arch, or pick a ${architecture} program`,
    });
  }
  const out: Need[] = [];
  if (elf.interpreter) out.push([elf.interpreter, `${path} names it as its program interpreter`]);
  const real = (await fs.realpath(path)) ?? path;
  const search = librarySearch(elf, posix.dirname(real), inherited, arch?.triplet);
  const dirs = await searchDirs(fs, elf, search.dirs, arch?.triplet);
  for (const soname of elf.needed) {
    const lib = soname.includes('/') ? soname : await findLibrary(fs, soname, dirs, elf);
    if (!lib) {
      throw new JeosError('E_INIT_LIBRARY_MISSING', `${path} needs ${soname}, which is not in ${dirs.join(', ')}`, {
        hint: `the program cannot start on this machine either (ldd ${path} says "not found"); install the library, or name the package with --from PACKAGE`,
      });
    }
    out.push([lib, `${path} needs ${soname}`, search.inherited, search.dirs.includes(posix.dirname(lib))]);
  }
  return out;
}

/** `#!/usr/bin/perl -w` → /usr/bin/perl; `#!/usr/bin/env python3` → /usr/bin/env, and python3 as env would find it. */
async function scriptInterpreter(fs: HostFs, path: string, data: Buffer): Promise<{ interpreter: string; program?: string }> {
  const line = data.subarray(2, Math.min(data.length, 256)).toString('latin1').split('\n')[0]!.trim();
  const [interp = '', arg] = line.split(/\s+/);
  if (posix.basename(interp) === 'env' && arg && !arg.startsWith('-')) {
    // env searches the PATH the program will have in the image, not the one of whoever runs jeos init.
    const found = await fs.which(arg, IMAGE_PATH);
    if (found) return { interpreter: interp, program: found };
    throw new JeosError('E_INIT_NOT_FOUND', `${path} runs ${arg} through env, and there is no ${arg} in ${IMAGE_PATH.join(':')}`, {
      hint: `install ${arg}, or give the interpreter's path in the script's #! line`,
    });
  }
  if (!interp.startsWith('/')) {
    throw new JeosError('E_INIT_NOT_EXECUTABLE', `${path} has a #! line without an absolute interpreter path (${JSON.stringify(line)})`, {
      hint: 'the kernel only runs scripts whose #! line names the interpreter by absolute path',
    });
  }
  return { interpreter: interp };
}

/** The RPATHs and RUNPATH (librarySearch), then ld.so.conf's directories (what ld.so.cache holds) and the default ones. */
async function searchDirs(fs: HostFs, elf: ElfInfo, paths: string[], triplet: string | undefined): Promise<string[]> {
  const dirs = [...paths, ...(await ldSoConf(fs, '/etc/ld.so.conf', 0))];
  const lib64 = elf.class === 64 ? ['/lib64', '/usr/lib64'] : [];
  dirs.push(...(triplet ? [`/lib/${triplet}`, `/usr/lib/${triplet}`] : []), ...lib64, '/lib', '/usr/lib');
  return [...new Set(dirs)];
}

/** The directories of ld.so.conf, following `include` lines (globs of the form DIR/*.conf). */
async function ldSoConf(fs: HostFs, file: string, depth: number): Promise<string[]> {
  if (depth > 4) return [];
  const text = await readFile(fs.outside(file), 'utf8').catch(() => '');
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const inc = /^include\s+(\S+)$/.exec(line);
    if (!inc) {
      if (line.startsWith('/')) out.push(line);
      continue;
    }
    const pattern = inc[1]!.startsWith('/') ? inc[1]! : posix.join(posix.dirname(file), inc[1]!);
    const dir = posix.dirname(pattern);
    const re = new RegExp(`^${posix.basename(pattern).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    const names = (await readdir(fs.outside(dir)).catch(() => [] as string[])).filter((n) => re.test(n)).sort();
    for (const n of names) out.push(...(await ldSoConf(fs, posix.join(dir, n), depth + 1)));
  }
  return out;
}

/** The first directory with an ELF file of that name for the same machine and class (the linker skips others). */
async function findLibrary(fs: HostFs, soname: string, dirs: string[], elf: ElfInfo): Promise<string | undefined> {
  for (const dir of dirs) {
    const candidate = posix.join(dir, soname);
    if (!(await fs.exists(candidate))) continue;
    const lib = readElf(await fs.read(candidate), candidate);
    if (lib && lib.machine === elf.machine && lib.class === elf.class) return candidate;
  }
  return undefined;
}
