/**
 * Slow tier: a real kernel boots the initramfs under QEMU (TCG) and runs its /init;
 * and the same tree as an ext4 image (vm.root: disk) on an NVMe drive, with no
 * initramfs at all.
 *
 * The /init is a static x86-64 ELF made here from a few hundred bytes of machine
 * code (listed below with its assembly): it stats `/`, `/etc/owned` and both names
 * of a hardlinked file, writes `jeos-init-ok` to the console when the kernel's
 * unpacker gave them the archive's modes, owners, shared inode and contents (or
 * `jeos-init-bad-metadata` when not), then reboots, which `-no-reboot` turns into
 * QEMU exiting.
 *
 * The kernel: $JEOS_TEST_KERNEL, else the newest /boot/vmlinuz-*, else the one in
 * a Debian kernel package ($JEOS_TEST_KERNEL_DEB or a linux-image-*-cloud-amd64 .deb
 * in apt's cache). Debian's cloud kernels (bookworm's 6.1, trixie's 6.12) boot this
 * in about 4 s here. Without any kernel the test is skipped and says so.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ImageTree, type NodeMeta } from '../../tree/index.js';
import { findKernelDeb } from '../../../test/support/vm/test-kernel.js';
import { staticExecutable } from '../../elf/static-executable.js';
import { writeExt4Image } from '../ext4/index.js';
import { writeInitramfs } from './index.js';

const EPOCH = 1_700_000_000;

/** `as` output for the program, one instruction per line. Offsets in comments. */
const CODE = [
  ['4881ec00010000', 'sub rsp, 256'],
  ['b804000000', 'mov eax, 4                    ; SYS_stat'],
  ['488d3dcf000000', 'lea rdi, [rip+root]          ; "/"'],
  ['4889e6', 'mov rsi, rsp'],
  ['0f05', 'syscall'],
  ['85c0', 'test eax, eax'],
  ['0f858f000000', 'jnz fail'],
  ['817c2418ed410000', 'cmp dword [rsp+24], 0x41ed ; st_mode == S_IFDIR|0755 (set by the "." entry)'],
  ['0f8581000000', 'jne fail'],
  ['b804000000', 'mov eax, 4'],
  ['488d3daa000000', 'lea rdi, [rip+owned]         ; "/etc/owned"'],
  ['4889e6', 'mov rsi, rsp'],
  ['0f05', 'syscall'],
  ['85c0', 'test eax, eax'],
  ['756c', 'jnz fail'],
  ['817c2418a0810000', 'cmp dword [rsp+24], 0x81a0 ; st_mode == S_IFREG|0640'],
  ['7562', 'jne fail'],
  ['837c241c21', 'cmp dword [rsp+28], 33       ; st_uid'],
  ['755b', 'jne fail'],
  ['837c242022', 'cmp dword [rsp+32], 34       ; st_gid'],
  ['7554', 'jne fail'],
  ['b804000000', 'mov eax, 4'],
  ['488d3d88000000', 'lea rdi, [rip+first]         ; "/usr/lib/first"'],
  ['4889e6', 'mov rsi, rsp'],
  ['0f05', 'syscall'],
  ['85c0', 'test eax, eax'],
  ['753f', 'jnz fail'],
  ['4c8b642408', 'mov r12, [rsp+8]             ; st_ino'],
  ['b804000000', 'mov eax, 4'],
  ['488d3d7d000000', 'lea rdi, [rip+second]        ; "/usr/lib/second"'],
  ['4889e6', 'mov rsi, rsp'],
  ['0f05', 'syscall'],
  ['85c0', 'test eax, eax'],
  ['7525', 'jnz fail'],
  ['4c3b642408', 'cmp r12, [rsp+8]             ; same inode'],
  ['751e', 'jne fail'],
  ['48837c241002', 'cmp qword [rsp+16], 2       ; st_nlink'],
  ['7516', 'jne fail'],
  ['48837c24300c', 'cmp qword [rsp+48], 12      ; st_size: the data came with the last name'],
  ['750e', 'jne fail'],
  ['488d3566000000', 'lea rsi, [rip+ok]'],
  ['ba0d000000', 'mov edx, 13'],
  ['eb0c', 'jmp out'],
  ['488d3565000000', 'fail: lea rsi, [rip+bad]'],
  ['ba17000000', 'mov edx, 23'],
  ['b801000000', 'out: mov eax, 1              ; SYS_write'],
  ['bf01000000', 'mov edi, 1                    ; the console the kernel opened for init'],
  ['0f05', 'syscall'],
  ['b8a9000000', 'mov eax, 169                  ; SYS_reboot'],
  ['bfaddee1fe', 'mov edi, 0xfee1dead'],
  ['be69191228', 'mov esi, 672274793'],
  ['ba67452301', 'mov edx, 0x01234567           ; LINUX_REBOOT_CMD_RESTART'],
  ['4531d2', 'xor r10d, r10d'],
  ['0f05', 'syscall'],
  ['ebfe', 'hang: jmp hang'],
] as const;
/** Data right after the code (at 0xe2, where the rip-relative offsets above point). */
const STRINGS = '/\0/etc/owned\0/usr/lib/first\0/usr/lib/second\0jeos-init-ok\njeos-init-bad-metadata\n';
const MARKER = 'jeos-init-ok';

const LOAD_ADDRESS = 0x400000n;
/** A static ELF64 executable: the ELF header, one PT_LOAD (R+X) mapping the whole file, the code. */
function staticInit(): Buffer {
  const code = Buffer.from(CODE.map(([hex]) => hex).join(''), 'hex');
  assert.equal(code.length, 0xe2, 'the strings must start where the code points');
  return staticExecutable(Buffer.concat([code, Buffer.from(STRINGS, 'latin1')]), LOAD_ADDRESS);
}

function bootTree(): ImageTree {
  const meta = (mode: number, uid = 0, gid = 0): NodeMeta => ({ mode, uid, gid, mtime: EPOCH - 60 });
  const t = new ImageTree();
  t.writeFile('init', staticInit(), meta(0o755));
  // The kernel opens /dev/console for init's stdin/stdout/stderr, if the archive has it.
  t.put('dev/console', { kind: 'char', major: 5, minor: 1, ...meta(0o600) });
  t.writeFile('etc/owned', 'owned by 33:34\n', meta(0o640, 33, 34));
  t.writeFile('usr/lib/first', 'hello world\n', meta(0o644));
  t.put('usr/lib/second', { kind: 'hardlink', target: 'usr/lib/first', ...meta(0o644) });
  return t;
}

function newestVmlinuz(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const images = readdirSync(dir).filter((n) => n.startsWith('vmlinuz-')).sort();
  return images.length ? join(dir, images[images.length - 1]!) : undefined;
}

let kernelImage: string | undefined;
let kernelScratch: string | undefined;

function findKernelImage(): string | undefined {
  if (kernelImage) return kernelImage;
  kernelImage = process.env.JEOS_TEST_KERNEL || newestVmlinuz('/boot');
  const deb = kernelImage ? undefined : findKernelDeb();
  if (deb) {
    kernelScratch = mkdtempSync(join(tmpdir(), 'jeos-kernel-'));
    execFileSync('dpkg-deb', ['-x', deb, kernelScratch]);
    kernelImage = newestVmlinuz(join(kernelScratch, 'boot'));
  }
  return kernelImage;
}

function skipReason(): string | false {
  if (process.arch !== 'x64') return `the test /init is x86-64 machine code (this is ${process.arch})`;
  if (spawnSync('sh', ['-c', 'command -v qemu-system-x86_64']).status !== 0) return 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';
  if (!findKernelImage()) return 'no kernel: set JEOS_TEST_KERNEL to a vmlinuz or JEOS_TEST_KERNEL_DEB to a linux-image-*-cloud-amd64 .deb';
  return false;
}

/** Boot under TCG (KVM hangs on these machines) and return the serial console output. */
function boot(kernel: string, image: { initrd: string } | { disk: string }, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const args = ['-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-m', '128', '-nographic', '-no-reboot', '-kernel', kernel];
    if ('initrd' in image) args.push('-initrd', image.initrd, '-append', 'console=ttyS0 panic=-1');
    else {
      args.push('-drive', `file=${image.disk},if=none,id=root,format=raw,snapshot=on`, '-device', 'nvme,drive=root,serial=test');
      args.push('-append', 'console=ttyS0 panic=-1 root=/dev/nvme0n1 rootfstype=ext4 rw init=/init');
    }
    const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

const skip = skipReason();

describe('initramfs boots under QEMU (slow)', { skip }, () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-cpio-boot-'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
    if (kernelScratch) await rm(kernelScratch, { recursive: true, force: true });
  });

  for (const compression of ['zstd', 'lz4', 'gzip'] as const) {
    test(`slow: a ${compression} initramfs boots and /init sees the archive's modes, owners and hardlinks`, async () => {
      const initrd = join(work, `initrd.${compression}`);
      await writeInitramfs(bootTree(), initrd, { sourceDateEpoch: EPOCH, compression });
      const console = await boot(findKernelImage()!, { initrd });
      assert.ok(console.includes(MARKER), `no ${MARKER} on the serial console:\n${console.slice(-3000)}`);
      assert.ok(console.includes('Run /init as init process'), 'the kernel ran our /init');
    });
  }

  test('slow: an ext4 image boots from NVMe without an initramfs and /init sees its modes, owners and hardlinks', async () => {
    const disk = join(work, 'root.img');
    await writeExt4Image(bootTree(), disk, { sourceDateEpoch: EPOCH, freeBytes: 1 << 20 });
    const console = await boot(findKernelImage()!, { disk });
    assert.match(console, /EXT4-fs \(nvme0n1\): mounted filesystem/);
    assert.ok(console.includes(MARKER), `no ${MARKER} on the serial console:\n${console.slice(-3000)}`);
  });
});
