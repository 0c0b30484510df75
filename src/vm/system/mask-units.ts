/**
 * What of systemd a VM does not run, masked with the reason (for build.json): login prompts,
 * the units, generators and files masks.ts names, systemd-sysctl when the kernel applies the
 * settings, logind without D-Bus, and systemd-tmpfiles-setup when jeos applies the tmpfiles.d
 * entries at build time; and which of systemd's services import credentials, none of which a
 * VM is given. setupVmSystem (system.ts) runs these in its order.
 */
import { findUnit, SYSTEM_UNITS } from '../../configure/index.js';
import type { ImageTree } from '../../tree/index.js';
import { unitEntries } from '../../util/unit-file.js';
import { planTmpfiles, tmpfilesNotDone } from '../tmpfiles/tmpfiles.js';
import { VM_GENERATOR_MASKS, VM_MASKS, VM_SYSCTL_MASKS, VM_TMPFILES_MASKS, type MaskRule } from './masks.js';
import { planSysctl, sysctlRecord } from './sysctl.js';
import type { VmSystemReport, VmSystemSpec } from './types.js';

const GENERATORS = 'usr/lib/systemd/system-generators';
const UNIT_DIR = SYSTEM_UNITS.dir;

/** Whether the image has any of `paths`. */
export function exists(tree: ImageTree, ...paths: string[]): boolean {
  return paths.some((p) => tree.stat(p) !== undefined);
}

/** Masks what cannot work in the VM, with `mask` (a unit) and `link` (a file in /etc). */
export function maskUnits(
  tree: ImageTree,
  spec: VmSystemSpec,
  report: VmSystemReport,
  t: { link: (path: string, target: string) => void; mask: (unit: string, reason: string) => void },
): void {
  const { link, mask } = t;
  // With agetty in the image (util-linux, for a workload's own use), login prompts are still left out:
  // every account's password is locked, so they let no one in, and serial-getty@ttyS0 waits 90 s for
  // dev-ttyS0.device, which nothing announces without udev, holding multi-user.target back that long.
  const agetty = exists(tree, 'usr/sbin/agetty', 'sbin/agetty');
  if (!agetty || !spec.debug) {
    mask('getty.target', agetty ? 'no login prompts: every password is locked, and the serial console\'s getty would wait 90 s for a device unit nothing announces without udev (vm.debug: true keeps them)' : 'no agetty in the image (util-linux): no login prompts');
    link('etc/systemd/system-generators/systemd-getty-generator', '/dev/null');
  }
  const hasModprobe = exists(tree, 'usr/sbin/modprobe', 'sbin/modprobe');
  const applies = (rule: MaskRule): boolean => {
    switch (rule.when) {
      case undefined:
        return true;
      case 'no-modprobe':
        return !hasModprobe;
      case 'initramfs-root':
        return spec.root !== 'disk';
      case 'no-debug':
        return !spec.debug;
    }
  };
  for (const rule of VM_MASKS) {
    if (applies(rule) && findUnit(tree, rule.unit, SYSTEM_UNITS.paths)) mask(rule.unit, rule.reason);
  }
  // A file in /usr/lib/<dir> is masked by a link to /dev/null of the same name in /etc/<dir>.
  const maskFiles = (rules: readonly MaskRule[], shipped: string, etc: string) => {
    for (const rule of rules) {
      if (!applies(rule) || !exists(tree, `${shipped}/${rule.unit}`)) continue;
      link(`${etc}/${rule.unit}`, '/dev/null');
      report.masked.push({ unit: rule.unit, reason: rule.reason });
    }
  };
  maskFiles(VM_GENERATOR_MASKS, GENERATORS, 'etc/systemd/system-generators');
  maskFiles(VM_SYSCTL_MASKS, 'usr/lib/sysctl.d', 'etc/sysctl.d');
  const sysctl = planSysctl(tree, 'systemd');
  report.sysctl = sysctlRecord(sysctl, 'systemd');
  if (sysctl.args && findUnit(tree, 'systemd-sysctl.service', SYSTEM_UNITS.paths)) {
    const n = sysctl.args.length;
    mask('systemd-sysctl.service', n ? `the kernel applies the image's ${n} sysctl setting${n === 1 ? '' : 's'} from its command line` : 'the image has no sysctl settings');
  }
  if (!exists(tree, 'usr/bin/dbus-daemon', 'usr/bin/dbus-broker')) {
    mask('systemd-logind.service', 'no D-Bus daemon in the image: logind cannot run without it');
  }
  maskFiles(VM_TMPFILES_MASKS, 'usr/lib/tmpfiles.d', 'etc/tmpfiles.d');
}

const TMPFILES_SETUP = 'systemd-tmpfiles-setup.service';

/**
 * The image's tmpfiles.d entries without systemd-tmpfiles-setup.service (see tmpfiles.ts):
 * applied to the tree now, and /run's made by /init (vm.network: busybox), whose lines
 * this returns. The service stays when an entry needs it, when the root is a disk (a tmpfs
 * is mounted on its /tmp at boot, and the disk keeps what a boot leaves), when vm.network:
 * networkd leaves no BusyBox script to make /run's entries, or when a unit that starts
 * before sysinit.target is ordered after the service.
 */
export function setupTmpfiles(tree: ImageTree, spec: VmSystemSpec, report: VmSystemReport, mask: (unit: string, reason: string) => void): string[] {
  if (!findUnit(tree, TMPFILES_SETUP, SYSTEM_UNITS.paths)) {
    report.tmpfiles = tmpfilesNotDone('not applied', `the image has no ${TMPFILES_SETUP}`);
    return [];
  }
  const plan = planTmpfiles(tree, { hostname: spec.hostname, journal: 'journald', sourceDateEpoch: spec.sourceDateEpoch });
  const masked = new Set(report.masked.map((m) => m.unit));
  const keep =
    plan.needsService ??
    (spec.root === 'disk' ? 'the root is a disk: a tmpfs is mounted on its /tmp at boot, and the disk keeps what a boot leaves for the next' : undefined) ??
    (spec.network === 'networkd' && plan.bootLines.length ? `vm.network: networkd: no BusyBox script runs before sysinit.target to make the ${plan.record.boot.length} entries in /run` : undefined) ??
    unitsOrderedAfter(tree, TMPFILES_SETUP, masked);
  if (keep) {
    report.tmpfiles = tmpfilesNotDone(TMPFILES_SETUP, keep);
    return [];
  }
  plan.apply();
  report.tmpfiles = { ...plan.record, on: plan.record.boot.length ? 'the build, and /init for /run' : 'the build' };
  const n = plan.record.build.length + plan.record.boot.length;
  mask(TMPFILES_SETUP, `jeos applied the image's ${n} tmpfiles.d entr${n === 1 ? 'y' : 'ies'} at build time${plan.record.boot.length ? `, and /init makes the ${plan.record.boot.length} in /run` : ''}`);
  return plan.bootLines;
}

/** An enabled unit that starts before sysinit.target (DefaultDependencies=no) and is ordered after `unit`, unless masked: it would start before the entries exist. */
function unitsOrderedAfter(tree: ImageTree, unit: string, masked: ReadonlySet<string>): string | undefined {
  const enabled = new Set<string>();
  for (const dir of SYSTEM_UNITS.paths) {
    if (!tree.isDir(dir)) continue;
    for (const sub of tree.list(dir)) if (/\.(wants|requires)$/.test(sub) && tree.isDir(`${dir}/${sub}`)) tree.list(`${dir}/${sub}`).forEach((u) => enabled.add(u));
  }
  for (const dir of SYSTEM_UNITS.paths) {
    if (!tree.isDir(dir)) continue;
    for (const name of tree.list(dir)) {
      if (masked.has(name) || name === unit || !enabled.has(name)) continue;
      const text = tree.readFile(`${dir}/${name}`)?.toString('utf8');
      const entries = unitEntries(text ?? '', 'Unit');
      if (!entries.some(([k, v]) => k === 'DefaultDependencies' && /^(no|false|0)$/i.test(v.trim()))) continue;
      const after = entries.filter(([k]) => k === 'After').flatMap(([, v]) => v.split(/\s+/));
      if (after.includes(unit)) return `/${dir}/${name} starts before sysinit.target and is ordered after ${unit}`;
    }
  }
  return undefined;
}

/** systemd's own services (systemd-*.service, shipped in /usr/lib) that import credentials, unless masked. */
export function systemdUnitsImportingCredentials(tree: ImageTree, masked: ReadonlySet<string>): string[] {
  const shipped = SYSTEM_UNITS.paths.filter((dir) => dir !== UNIT_DIR && tree.isDir(dir));
  const units = new Set<string>();
  for (const dir of shipped) {
    for (const name of tree.list(dir)) {
      if (!name.startsWith('systemd-') || !name.endsWith('.service') || name.includes('@') || masked.has(name)) continue;
      const text = tree.readFile(`${dir}/${name}`)?.toString('utf8') ?? '';
      if (/^\s*ImportCredential\s*=\s*\S/m.test(text)) units.add(name);
    }
  }
  return [...units].sort();
}
