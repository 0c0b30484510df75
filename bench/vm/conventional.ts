/**
 * The conventional Debian VM bench/vm.ts measures jeos against: mmdebstrap minbase with
 * systemd, nginx and Debian's cloud kernel (initramfs-tools makes its initrd, with
 * Debian's default MODULES=most), DHCP by systemd-networkd (shipped in trixie's
 * systemd package but not enabled by default, so a customize hook writes a .network
 * file and enables it), put on an ext4 image by `mkfs.ext4 -d`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { trixieSources } from '../trixie-sources.js';

export interface ConventionalImage {
  kernel: string;
  initrd: string;
  disk: string;
  /** Kernel release (`uname -r`), and the version of the linux-image-<release> package that holds it. */
  release: string;
  kernelPackage: string;
  kernelVersion: string;
  /** Wall time of mmdebstrap and of mkfs.ext4, ms. */
  mmdebstrapMs: number;
  mkfsMs: number;
  treeBytes: number;
  diskBytes: number;
}

export const CONVENTIONAL_APPEND = 'root=/dev/vda rw console=ttyS0 panic=-1';

const PACKAGES = ['systemd-sysv', 'nginx', 'linux-image-cloud-amd64', 'initramfs-tools'];
const NETWORK = '[Match]\\nName=en*\\n\\n[Network]\\nDHCP=yes\\n';

function run(cmd: string, argv: string[]): { ms: number; stdout: string } {
  const t = performance.now();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status ?? r.signal}):\n${(r.stderr + r.stdout).slice(-3000)}`);
  return { ms: Math.round(performance.now() - t), stdout: r.stdout };
}

export async function makeConventional(work: string): Promise<ConventionalImage> {
  const sources = await trixieSources();
  const root = join(work, 'conventional-root');
  const mm = run('mmdebstrap', [
    '--quiet',
    '--variant=minbase',
    `--include=${PACKAGES.join(',')}`,
    `--customize-hook=mkdir -p "$1/etc/systemd/network" && printf '${NETWORK}' > "$1/etc/systemd/network/80-dhcp.network"`,
    '--customize-hook=chroot "$1" systemctl enable systemd-networkd',
    '--customize-hook=echo conventional > "$1/etc/hostname"',
    'trixie',
    root,
    ...sources,
  ]);

  const release = readdirSync(join(root, 'boot')).find((n) => n.startsWith('vmlinuz-'))!.slice('vmlinuz-'.length);
  const kernelPackage = `linux-image-${release}`;
  const kernelVersion = run('dpkg-query', [`--admindir=${join(root, 'var/lib/dpkg')}`, '-W', '-f', '${Version}', kernelPackage]).stdout;
  const treeBytes = Number(run('du', ['-sb', root]).stdout.split('\t')[0]);

  // Room for the tree plus half again (ext4 metadata, journal, and a little to write into).
  const disk = join(work, 'conventional.ext4');
  const sizeMiB = Math.ceil((treeBytes * 1.5) / 2 ** 20) + 64;
  const mkfs = run('mkfs.ext4', ['-q', '-F', '-L', 'root', '-d', root, disk, `${sizeMiB}M`]);
  return {
    kernel: join(root, 'boot', `vmlinuz-${release}`),
    initrd: join(root, 'boot', `initrd.img-${release}`),
    disk,
    release,
    kernelPackage,
    kernelVersion,
    mmdebstrapMs: mm.ms,
    mkfsMs: mkfs.ms,
    treeBytes,
    diskBytes: statSync(disk).size,
  };
}
