// The small synthetic image the VM system setup's tests run on (src/vm/system/*.test.ts): libc6,
// a stand-in systemd, BusyBox and a daemon with its own enabled units, configured as jeos build
// would; the spec setupVmSystem gets for it, and the trim as jeos build runs it after the setup.
import { configureImage } from '../../../src/configure/index.js';
import { ImageTree } from '../../../src/tree/index.js';
import { trimImage } from '../../../src/trim/index.js';
import type { VmSystemSpec } from '../../../src/vm/system/system.js';
import { installFake, mergedUsrTree, type FakePackage } from '../configure/packages.js';
import { buildElf } from '../elf/synthetic.js';

const LD = '/lib64/ld-linux-x86-64.so.2';
const T = 'usr/lib/x86_64-linux-gnu';
/** An ELF executable that needs libc.so.6 (through the image's ld.so). */
export const exe = () => ({ content: buildElf({ type: 2, interpreter: LD, needed: ['libc.so.6'] }), mode: 0o755 });
const lib = (soname: string) => ({ content: buildElf({ soname }), mode: 0o644 });
/** A service unit running `exec`, wanted by multi-user.target. */
export const service = (exec: string) => `[Unit]\nDescription=x\n\n[Service]\nExecStart=${exec}\n\n[Install]\nWantedBy=multi-user.target\n`;
/** Where libc-bin ships the C.UTF-8 locale (image's `localeC8`). */
export const C_UTF8 = 'usr/lib/locale/C.utf8';

/** libc6, a stand-in systemd with the units a jeos VM enables, a daemon with its own enabled unit, and `extra`. */
export function image(extra: FakePackage[] = [], options: { localeC8?: boolean } = {}) {
  const tree = mergedUsrTree(new ImageTree());
  const specs: FakePackage[] = [
    {
      name: 'libc6',
      multiArch: 'same',
      files: {
        [`/${T}/ld-linux-x86-64.so.2`]: lib('ld-linux-x86-64.so.2'),
        '/usr/lib64/ld-linux-x86-64.so.2': { symlink: '../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
        [`/${T}/libc.so.6`]: lib('libc.so.6'),
      },
    },
    ...(options.localeC8
      ? [{ name: 'libc-bin', files: { [`/${C_UTF8}/LC_CTYPE`]: 'ctype\n', [`/${C_UTF8}/LC_COLLATE`]: 'collate\n', [`/${C_UTF8}/LC_MESSAGES/SYS_LC_MESSAGES`]: 'messages\n' } }]
      : []),
    {
      name: 'systemd',
      files: {
        '/usr/lib/systemd/systemd': exe(),
        '/usr/lib/systemd/system/multi-user.target': '[Unit]\nDescription=Multi-User System\n',
        '/usr/lib/systemd/system/systemd-networkd.service': service('/usr/lib/systemd/systemd-networkd'),
        '/usr/lib/systemd/systemd-networkd': exe(),
        '/usr/bin/systemd-escape': exe(),
        '/usr/bin/systemctl': exe(),
        '/usr/lib/systemd/system/systemd-modules-load.service': service('/usr/lib/systemd/systemd-modules-load'),
        '/usr/lib/systemd/systemd-modules-load': exe(),
      },
    },
    { name: 'busybox', files: { '/usr/bin/busybox': exe() } },
    {
      name: 'webd',
      files: {
        '/usr/sbin/webd': exe(),
        '/usr/lib/systemd/system/webd.service': service('/usr/sbin/webd -g "daemon on;"'),
        '/usr/bin/webd-keygen': exe(),
        '/usr/lib/systemd/system/webd-keygen.service': service('/usr/bin/webd-keygen'),
        '/usr/lib/systemd/system/webd-shell.service': service("/bin/sh -c 'echo hello'"),
        '/usr/bin/dash': exe(),
        '/usr/bin/sh': { symlink: 'dash' },
      },
    },
    ...extra,
  ];
  const packages = specs.map((s) => installFake(tree, s));
  configureImage(tree, packages, { architecture: 'amd64', sourceDateEpoch: 1_700_000_000, workloadUser: 'root', os: { codename: 'trixie', versionId: '13', imageId: 'webd', imageVersion: '0' } });
  // What the packages' postinst (deb-systemd-helper) enables.
  for (const unit of ['webd.service', 'webd-keygen.service', 'webd-shell.service']) {
    tree.symlink(`etc/systemd/system/multi-user.target.wants/${unit}`, `/usr/lib/systemd/system/${unit}`);
  }
  return { tree, packages };
}

/** The VM's spec: host name webd, the virtio_net module, and `command` as the workload's site.service. */
export const spec = (command?: string[], env: Record<string, string> = {}): VmSystemSpec => ({
  hostname: 'webd',
  modules: ['virtio_net'],
  sourceDateEpoch: 1_700_000_000,
  ...(command ? { workload: { unit: 'site.service', description: 'site', command, user: 'root', workdir: '/', env, restart: 'on-failure' as const } } : {}),
});

/** The trim as jeos build runs it on a VM image, after setupVmSystem. */
export const trimVm = (tree: ImageTree, packages: ReturnType<typeof image>['packages']) =>
  trimImage(tree, packages, { architecture: 'amd64', settings: { enabled: true, keep: [], locales: [] }, roots: [], requested: [], units: true }, 1_700_000_000);
