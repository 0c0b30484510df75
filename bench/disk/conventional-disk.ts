/**
 * The conventional Debian VM of bench/vm.ts (bench/vm/conventional.ts: mmdebstrap minbase,
 * systemd, nginx, the cloud kernel and an initramfs-tools initrd, on ext4) made into a GPT
 * disk that boots the way a Debian install on UEFI does through a boot loader: an ESP (FAT32,
 * 512-byte sectors, mkfs.vfat + mtools) holding systemd-boot as EFI/BOOT/BOOTX64.EFI, a
 * loader.conf with no menu, one Type #1 entry with the tree's own vmlinuz and initrd, and the
 * ext4 root as the second partition (the x86-64 root type). systemd-boot is the very binary
 * the jeos disk carries (copied off its ESP), so both disks differ only in what they boot.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConventionalImage } from '../vm/conventional.js';

function run(cmd: string, argv: string[]): string {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status ?? r.signal}):\n${(r.stderr + r.stdout).slice(-3000)}`);
  return r.stdout;
}

const MiB = 2 ** 20;
const ROOT_X86_64 = '4f68bce3-e8cd-4db1-96e7-fbcaf984b709';

/** systemd-boot off a jeos disk's ESP (its first sector given by build.json's disk.esp.first). */
export function bootLoaderFrom(jeosDisk: string, espFirst: number, out: string): string {
  run('mcopy', ['-n', '-i', `${jeosDisk}@@${espFirst * 512}`, '::EFI/BOOT/BOOTX64.EFI', out]);
  return out;
}

export async function conventionalDisk(image: ConventionalImage, bootLoader: string, work: string): Promise<string> {
  const esp = join(work, 'conventional-esp.img');
  const espMiB = Math.max(64, Math.ceil((statSync(image.kernel).size + statSync(image.initrd).size) / MiB) + 32);
  run('truncate', ['-s', `${espMiB}M`, esp]);
  run('mkfs.vfat', ['-F', '32', '-S', '512', '-n', 'ESP', esp]);
  const loaderConf = join(work, 'loader.conf');
  const entry = join(work, 'debian.conf');
  await writeFile(loaderConf, 'timeout 0\neditor no\n');
  await writeFile(entry, 'title Debian (conventional)\nlinux /vmlinuz\ninitrd /initrd.img\noptions root=/dev/vda2 rw console=ttyS0 panic=-1\n');
  run('mmd', ['-i', esp, '::EFI', '::EFI/BOOT', '::loader', '::loader/entries']);
  run('mcopy', ['-i', esp, bootLoader, '::EFI/BOOT/BOOTX64.EFI']);
  run('mcopy', ['-i', esp, loaderConf, '::loader/loader.conf']);
  run('mcopy', ['-i', esp, entry, '::loader/entries/debian.conf']);
  run('mcopy', ['-i', esp, image.kernel, '::vmlinuz']);
  run('mcopy', ['-i', esp, image.initrd, '::initrd.img']);

  const rootMiB = Math.ceil(statSync(image.disk).size / MiB);
  const disk = join(work, 'conventional-disk.img');
  run('truncate', ['-s', `${1 + espMiB + rootMiB + 1}M`, disk]);
  run('sgdisk', ['-o', '-n', `1:2048:+${espMiB}M`, '-t', '1:ef00', '-c', '1:esp', '-n', `2:0:+${rootMiB}M`, '-t', `2:${ROOT_X86_64}`, '-c', '2:root', disk]);
  run('dd', [`if=${esp}`, `of=${disk}`, 'bs=1M', 'seek=1', 'conv=notrunc,sparse', 'status=none']);
  run('dd', [`if=${image.disk}`, `of=${disk}`, 'bs=1M', `seek=${1 + espMiB}`, 'conv=notrunc,sparse', 'status=none']);
  return disk;
}
