/**
 * Test support for the VM runner: a stand-in guest that follows jeos's guest
 * contract closely enough to exercise the runner against a real kernel under QEMU.
 *
 * Its /init is a static x86-64 ELF made here from a few hundred bytes of machine
 * code (listed below with the assembly `as` made them from). It copies /console
 * to the console, loads the kernel modules at /m/0 … /m/7 that exist (in that
 * order, with finit_module), copies /report to /dev/ttyS1 (the report channel),
 * and then sleeps in pause() until QEMU is stopped. The test decides what the
 * console and the report say, and which modules (virtio_balloon and its
 * dependencies, for memory statistics) are loaded.
 *
 * The kernel: $JEOS_TEST_KERNEL, else a Debian cloud kernel package
 * ($JEOS_TEST_KERNEL_DEB or a linux-image-*-cloud-amd64 .deb in apt's cache),
 * whose modules are used too.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeInitramfs } from '../../../src/outputs/cpio/index.js';
import { ImageTree, type NodeMeta } from '../../../src/tree/index.js';
import { findKernelDeb } from '../vm/test-kernel.js';
import { staticExecutable } from '../../../src/elf/static-executable.js';

/** Machine code and the instruction it encodes, in order; offsets in hex. */
const CODE = [
  ['488d3dcf000000', '00 _start: lea rdi, [rip+console_path]'],
  ['41bd01000000', '07 mov r13d, 1                   ; output: the console the kernel opened for init'],
  ['e875000000', '0d call cat'],
  ['488d1dd9000000', '12 lea rbx, [rip+modules]'],
  ['803b00', '19 next_module: cmp byte [rbx], 0'],
  ['743a', '1c je modules_done'],
  ['b802000000', '1e mov eax, 2                    ; SYS_open'],
  ['4889df', '23 mov rdi, rbx'],
  ['31f6', '26 xor esi, esi                      ; O_RDONLY'],
  ['0f05', '28 syscall'],
  ['85c0', '2a test eax, eax'],
  ['781f', '2c js skip_module'],
  ['4189c4', '2e mov r12d, eax'],
  ['89c7', '31 mov edi, eax'],
  ['b839010000', '33 mov eax, 313                 ; SYS_finit_module'],
  ['488d35db000000', '38 lea rsi, [rip+empty]        ; no parameters'],
  ['31d2', '3f xor edx, edx'],
  ['0f05', '41 syscall'],
  ['b803000000', '43 mov eax, 3                    ; SYS_close'],
  ['4489e7', '48 mov edi, r12d'],
  ['0f05', '4b syscall'],
  ['48ffc3', '4d skip_module: inc rbx'],
  ['807bff00', '50 cmp byte [rbx-1], 0'],
  ['75f7', '54 jne skip_module'],
  ['ebc1', '56 jmp next_module'],
  ['b802000000', '58 modules_done: mov eax, 2     ; SYS_open'],
  ['488d3d83000000', '5d lea rdi, [rip+ttys1]'],
  ['be01010000', '64 mov esi, 0x101                ; O_WRONLY | O_NOCTTY'],
  ['0f05', '69 syscall'],
  ['85c0', '6b test eax, eax'],
  ['780f', '6d js idle'],
  ['4189c5', '6f mov r13d, eax'],
  ['488d3d66000000', '72 lea rdi, [rip+report_path]'],
  ['e809000000', '79 call cat'],
  ['b822000000', '7e idle: mov eax, 34             ; SYS_pause'],
  ['0f05', '83 syscall'],
  ['ebf7', '85 jmp idle'],
  ['b802000000', '87 cat: mov eax, 2               ; SYS_open(rdi, O_RDONLY), copied to fd r13d'],
  ['31f6', '8c xor esi, esi'],
  ['0f05', '8e syscall'],
  ['85c0', '90 test eax, eax'],
  ['7841', '92 js cat_done'],
  ['4189c4', '94 mov r12d, eax'],
  ['4881ec00100000', '97 sub rsp, 4096'],
  ['31c0', '9e cat_loop: xor eax, eax          ; SYS_read'],
  ['4489e7', 'a0 mov edi, r12d'],
  ['4889e6', 'a3 mov rsi, rsp'],
  ['ba00100000', 'a6 mov edx, 4096'],
  ['0f05', 'ab syscall'],
  ['4885c0', 'ad test rax, rax'],
  ['7e12', 'b0 jle cat_close'],
  ['4889c2', 'b2 mov rdx, rax'],
  ['b801000000', 'b5 mov eax, 1                    ; SYS_write'],
  ['4489ef', 'ba mov edi, r13d'],
  ['4889e6', 'bd mov rsi, rsp'],
  ['0f05', 'c0 syscall'],
  ['ebda', 'c2 jmp cat_loop'],
  ['4881c400100000', 'c4 cat_close: add rsp, 4096'],
  ['b803000000', 'cb mov eax, 3                    ; SYS_close'],
  ['4489e7', 'd0 mov edi, r12d'],
  ['0f05', 'd3 syscall'],
  ['c3', 'd5 cat_done: ret'],
] as const;
/** Data right after the code, at 0xd6 where the rip-relative offsets above point. */
const STRINGS = '/console\0/report\0/dev/ttyS1\0/m/0\0/m/1\0/m/2\0/m/3\0/m/4\0/m/5\0/m/6\0/m/7\0\0';
const MAX_MODULES = 8;

const LOAD_ADDRESS = 0x400000n;
/** A static ELF64 executable: the ELF header, one PT_LOAD (R+X) mapping the whole file, the code. */
export function guestInit(): Buffer {
  const code = Buffer.from(CODE.map(([hex]) => hex).join(''), 'hex');
  if (code.length !== 0xd6) throw new Error('the strings must start where the code points');
  return staticExecutable(Buffer.concat([code, Buffer.from(STRINGS, 'latin1')]), LOAD_ADDRESS);
}

/** virtio_balloon and what it needs when virtio_pci is a module (Debian's cloud kernels), in load order. */
export const BALLOON_MODULES = ['virtio_ring', 'virtio', 'virtio_pci_legacy_dev', 'virtio_pci_modern_dev', 'virtio_pci', 'virtio_balloon'];

export interface TestKernel {
  vmlinuz: string;
  /** Module name → uncompressed .ko contents, for the names asked for that the package has as modules. */
  module(name: string): Buffer | undefined;
  cleanup(): void;
}

/** The kernel to boot, or a sentence saying why there is none. */
export function findTestKernel(): TestKernel | string {
  if (process.env.JEOS_TEST_KERNEL) {
    return { vmlinuz: process.env.JEOS_TEST_KERNEL, module: () => undefined, cleanup: () => {} };
  }
  const deb = findKernelDeb();
  if (!deb) return 'no kernel: set JEOS_TEST_KERNEL to a vmlinuz or JEOS_TEST_KERNEL_DEB to a linux-image-*-cloud-amd64 .deb';
  const dir = mkdtempSync(join(tmpdir(), 'jeos-vm-kernel-'));
  execFileSync('dpkg-deb', ['-x', deb, dir]);
  const boot = join(dir, 'boot');
  const image = readdirSync(boot).find((n) => n.startsWith('vmlinuz-'));
  if (!image) return `${deb} holds no /boot/vmlinuz-*`;
  const modules = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ko(\.xz|\.zst)?$/.test(e.name)) modules.set(e.name.replace(/\.ko(\.\w+)?$/, '').replaceAll('-', '_'), p);
    }
  };
  for (const lib of ['lib/modules', 'usr/lib/modules']) if (existsSync(join(dir, lib))) walk(join(dir, lib));
  return {
    vmlinuz: join(boot, image),
    module(name) {
      const path = modules.get(name);
      if (!path) return undefined;
      // The init loads plain .ko files; decompress what Debian ships compressed (trixie's .ko.xz).
      if (path.endsWith('.xz')) return execFileSync('xz', ['-dc', path], { maxBuffer: 64 << 20 });
      if (path.endsWith('.zst')) return execFileSync('zstd', ['-dc', path], { maxBuffer: 64 << 20 });
      return readFileSync(path);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface GuestSpec {
  /** What /init writes to the console (the kernel's own messages come first). */
  console: string;
  /** What /init writes to the report channel; undefined: nothing. */
  report?: string;
  /** Module files in load order (at most 8). */
  modules?: Buffer[];
}

/** Write the stand-in guest's initramfs (gzip: every kernel reads it). */
export async function writeGuestInitramfs(spec: GuestSpec, path: string): Promise<void> {
  const meta = (mode: number): NodeMeta => ({ mode, uid: 0, gid: 0, mtime: 1_700_000_000 });
  const t = new ImageTree();
  t.writeFile('init', guestInit(), meta(0o755));
  t.put('dev/console', { kind: 'char', major: 5, minor: 1, ...meta(0o600) });
  t.put('dev/ttyS1', { kind: 'char', major: 4, minor: 65, ...meta(0o600) });
  t.writeFile('console', spec.console, meta(0o644));
  if (spec.report !== undefined) t.writeFile('report', spec.report, meta(0o644));
  const modules = spec.modules ?? [];
  if (modules.length > MAX_MODULES) throw new Error(`the test init loads at most ${MAX_MODULES} modules`);
  modules.forEach((m, i) => t.writeFile(`m/${i}`, m, meta(0o644)));
  await writeInitramfs(t, path, { sourceDateEpoch: 1_700_000_000, compression: 'gzip' });
}
