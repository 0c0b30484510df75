/**
 * What turns an image tree into a bootable VM's root: systemd as /init, the
 * workload as a service, the drivers and DHCP (BusyBox's modprobe and udhcpc, or
 * systemd-modules-load and systemd-networkd), the host name, the locale
 * services get, /tmp, the kernel modules to load (there is no udev to load them),
 * and units masked that cannot work without their missing parts (getty without
 * agetty, logind without D-Bus). Everything it changes is listed in the report,
 * for build.json.
 */
import { JeosError } from '../../errors.js';
import { findUnit, parseInstall, SYSTEM_UNITS } from '../../configure/index.js';
import { DEFAULT_PATH, findCommand, findLocale, LOCALE_CONF, programsRunBy, SYSTEMD_DEFAULT_LOCALE, systemLocales } from '../../trim/index.js';
import type { VmNetwork, VmRoot } from '../../config/schema.js';
import type { ImageTree, NodeMeta } from '../../tree/index.js';
import { ensureTmp } from '../../configure/tmp-dir.js';
import { unitEntries } from '../../util/unit-file.js';
import { AUDIT_AGENT, AUDIT_PORT_NAME, auditAgentLine, auditAgentScript } from '../busybox/audit-agent.js';
import { BUSYBOX, DHCP_SCRIPT, dhcpScript, INIT_MOUNT_POINTS, INIT_SCRIPT, initScript, modulesByName, NETWORK_UNIT, networkUnit, SYSTEMD_BINARY } from '../busybox/busybox-network.js';
import { DISK_JOURNAL_SCRIPT, DISK_JOURNAL_UNIT, diskJournalScript, diskJournalUnit } from './disk-journal.js';
import { VM_GENERATOR_MASKS, VM_MASKS, VM_SYSCTL_MASKS, VM_TMPFILES_MASKS, type MaskRule } from './masks.js';
import { planSysctl, sysctlRecord, type SysctlRecord } from './sysctl.js';
import { disableStrayUnits } from './stray-units.js';
import {
  blessBootDropin,
  BOOT_COMPLETE_UNIT,
  bootCompleteUnit,
  DISK_MOUNTS_SCRIPT,
  DISK_MOUNTS_UNIT,
  diskMountsScript,
  diskMountsUnit,
  HEALTH_SCRIPT,
  HEALTH_UNIT,
  healthScript,
  healthUnit,
  watchdogConf,
  type DiskHealthcheck,
} from './disk-boot.js';
import { setupImageUpdate, type ImageUpdateSpec } from './update.js';
import { planTmpfiles, tmpfilesNotDone, type TmpfilesRecord } from '../tmpfiles/tmpfiles.js';
import { parentOf } from '../../util/path.js';
import {
  CREDENTIALS_DROPIN,
  dhcpNetwork,
  JOURNALD_DROPIN,
  JOURNALD_SERVICE_DROPIN,
  journaldAtBoot,
  journaldLimits,
  NETWORK_FILE,
  NETWORKD_DROPIN,
  networkdOrdering,
  noImportedCredentials,
  REPORT_UNIT,
  reportUnit,
  workloadUnit,
  type WorkloadUnitSpec,
  UDEV_RECORD_TMPFILES,
  udevRecordForFirstNic,
} from './units.js';
import { hostsFor } from './hosts.js';

export const SYSTEMD = SYSTEMD_BINARY;
const GENERATORS = 'usr/lib/systemd/system-generators';
const UNIT_DIR = SYSTEM_UNITS.dir;

export interface VmSystemSpec {
  hostname: string;
  /** The workload's service; none when jeos.yaml names no command (the packages' own units run). */
  workload?: WorkloadUnitSpec & { unit: string };
  /**
   * Kernel modules to insert at boot. With vm.network: networkd systemd-modules-load inserts
   * them all by name; with busybox, the drivers among them (VM_MODULES) load only for the
   * devices present, and the others by name.
   */
  modules: readonly string[];
  /** What loads the drivers and takes the DHCP lease (vm.network; busybox by default). */
  network?: VmNetwork;
  /** Where the root file system is: the initramfs (the default) or a disk image. */
  root?: VmRoot;
  /** Booted from a disk image (the disk output): /var and the ESP mounted, boot assessment with this health check. */
  disk?: { healthcheck?: DiskHealthcheck; update?: ImageUpdateSpec };
  /** Keep what debugging the boot from the kernel command line needs (vm.debug). */
  debug?: boolean;
  sourceDateEpoch: number;
}

export interface VmSystemReport {
  init: string;
  hostname: string;
  workloadUnit?: string;
  /** Files jeos wrote, as absolute paths. */
  files: string[];
  enabled: string[];
  /** Package units no longer started at boot, with the reason. */
  disabled: Array<{ unit: string; reason: string }>;
  masked: Array<{ unit: string; reason: string }>;
  /** The image's sysctl settings: on the kernel command line (systemd-sysctl.service masked) when the kernel can apply them all. */
  sysctl: SysctlRecord;
  /** The image's tmpfiles.d entries: applied at build time and made in /run by /init (systemd-tmpfiles-setup.service masked), or left to that service, with the entry that needs it. */
  tmpfiles: TmpfilesRecord;
  /** What loads the drivers and takes the DHCP lease on eth0, and the modules loaded by name (the drivers of the devices present load by their aliases). */
  network: NetworkReport;
  /** The LANG systemd gives every service, and why (written to /etc/locale.conf unless a package ships one). */
  locale: { lang: string; reason: string };
}

export interface NetworkReport {
  by: string;
  modulesByName: string[];
}

function exists(tree: ImageTree, ...paths: string[]): boolean {
  return paths.some((p) => tree.stat(p) !== undefined);
}

/** The program a unit's first ExecStart= runs, without systemd's `-@:+!` prefixes. */
function execOf(text: string): string | undefined {
  const m = /^\s*ExecStart\s*=\s*[-@:+!]*(\S+)/m.exec(text);
  return m?.[1];
}

export function setupVmSystem(tree: ImageTree, spec: VmSystemSpec): VmSystemReport {
  const meta = (mode: number): NodeMeta => ({ mode, uid: 0, gid: 0, mtime: spec.sourceDateEpoch });
  const report: VmSystemReport = { init: `/${SYSTEMD}`, hostname: spec.hostname, files: [], enabled: [], disabled: [], masked: [], sysctl: { settings: [], on: 'kernel command line' }, tmpfiles: tmpfilesNotDone(''), network: { by: '', modulesByName: [] }, locale: { lang: '', reason: '' } };
  const write = (path: string, text: string | Buffer, mode = 0o644) => {
    tree.mkdirp(parentOf(path), meta(0o755));
    tree.writeFile(path, text, meta(mode));
    report.files.push(`/${path}`);
  };
  const link = (path: string, target: string) => {
    tree.mkdirp(parentOf(path), meta(0o755));
    tree.symlink(path, target, meta(0o777));
  };
  const enable = (unit: string, seen = new Set<string>()): void => {
    if (seen.has(unit)) return;
    seen.add(unit);
    const file = findUnit(tree, unit, SYSTEM_UNITS.paths);
    if (!file) throw new JeosError('E_VM_UNIT_MISSING', `the image has no ${unit}, which a jeos VM needs`, { hint: 'keep systemd in the image (it is added to the request for vm outputs)' });
    const install = parseInstall(tree.readFile(file.slice(1))?.toString('utf8') ?? '');
    for (const target of install.wantedBy) link(`${UNIT_DIR}/${target}.wants/${unit}`, file);
    for (const target of install.requiredBy) link(`${UNIT_DIR}/${target}.requires/${unit}`, file);
    for (const alias of install.alias) link(`${UNIT_DIR}/${alias}`, file);
    report.enabled.push(unit);
    for (const also of install.also) enable(also, seen);
  };
  const mask = (unit: string, reason: string) => {
    link(`${UNIT_DIR}/${unit}`, '/dev/null');
    report.masked.push({ unit, reason });
  };

  if (!exists(tree, SYSTEMD)) {
    throw new JeosError('E_VM_NO_INIT', `the image has no /${SYSTEMD}`, { hint: 'a VM image boots systemd: keep the systemd package in the image' });
  }
  // The kernel runs /init from the initramfs. Without /etc/initrd-release systemd boots it as the real root.
  // With vm.network: busybox /init is a script that loads the drivers and starts udhcpc, then runs systemd.
  const busyboxNetwork = spec.network !== 'networkd';
  link('init', `/${busyboxNetwork ? INIT_SCRIPT : SYSTEMD}`);
  if (busyboxNetwork) {
    report.init = `/${INIT_SCRIPT}, then /${SYSTEMD}`;
    for (const dir of INIT_MOUNT_POINTS) if (!tree.isDir(dir)) tree.mkdirp(dir, meta(0o755));
  }
  if (tree.has('etc/initrd-release')) {
    tree.remove('etc/initrd-release');
    report.files.push('-/etc/initrd-release');
  }
  link(`${UNIT_DIR}/default.target`, '/usr/lib/systemd/system/multi-user.target');

  write('etc/hostname', `${spec.hostname}\n`);
  const hosts = hostsFor(tree.readFile('etc/hosts')?.toString('utf8'), spec.hostname);
  if (hosts !== undefined) write('etc/hosts', hosts);
  write(JOURNALD_DROPIN, journaldLimits());
  write(JOURNALD_SERVICE_DROPIN, journaldAtBoot());
  report.locale = setLocale(tree, write);
  if (ensureTmp(tree, spec.sourceDateEpoch)) report.files.push('/tmp');

  if (spec.network === 'networkd') {
    write('etc/modules-load.d/jeos.conf', `# Made by jeos: the VM has no udev, so its drivers are loaded by name.\n${spec.modules.join('\n')}\n`);
    write(NETWORK_FILE, dhcpNetwork());
    write(UDEV_RECORD_TMPFILES, udevRecordForFirstNic());
    write(NETWORKD_DROPIN, networkdOrdering());
    enable('systemd-networkd.service');
    report.network = { by: 'systemd-modules-load and systemd-networkd', modulesByName: [...spec.modules] };
  } else {
    if (tree.stat(BUSYBOX)?.kind !== 'file') {
      throw new JeosError('E_VM_NO_BUSYBOX', `the image has no /${BUSYBOX}, which vm.network: busybox runs`, {
        hint: 'keep BusyBox in the image (busybox-static is added to the request for vm outputs; run jeos lock if jeos.lock predates it), or set vm.network: networkd',
      });
    }
    const named = modulesByName(tree, spec.modules);
    write(DHCP_SCRIPT, dhcpScript(), 0o755);
    write(`${UNIT_DIR}/${NETWORK_UNIT}`, networkUnit());
    enable(NETWORK_UNIT);
    if (findUnit(tree, 'systemd-modules-load.service', SYSTEM_UNITS.paths)) {
      mask('systemd-modules-load.service', '/init loads the modules before systemd runs: the drivers of the devices present, and by name those of jeos.yaml, the modules-load.d files and the kernel command line');
    }
    report.network = { by: 'BusyBox modprobe and udhcpc (/init, before systemd)', modulesByName: named };
  }

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
  const runLines = setupTmpfiles(tree, spec, report, mask);
  if (busyboxNetwork) {
    // The answer to jeos audit --against vm:NAME, started by /init like udhcpc (no unit, no systemd-executor).
    write(AUDIT_AGENT, auditAgentScript(), 0o755);
    write(INIT_SCRIPT, initScript(report.network.modulesByName, runLines, [`# jeos audit --against vm:NAME: answers on the ${AUDIT_PORT_NAME} port jeos run adds; ends at once without it.`, auditAgentLine()]), 0o755);
  }
  for (const unit of systemdUnitsImportingCredentials(tree, new Set(report.masked.map((m) => m.unit)))) {
    write(`${UNIT_DIR}/${unit}.d/${CREDENTIALS_DROPIN}`, noImportedCredentials());
  }

  if (spec.workload) {
    const { unit, ...unitSpec } = spec.workload;
    write(`${UNIT_DIR}/${unit}`, workloadUnit(unitSpec));
    report.workloadUnit = unit;
    disableDuplicates(tree, unit, spec.workload.command, spec.workload.env.PATH ?? DEFAULT_PATH, report);
    disableStrayUnits(tree, unit, report);
    enable(unit);
  }
  write(`${UNIT_DIR}/${REPORT_UNIT}`, reportUnit());
  enable(REPORT_UNIT);
  if (spec.disk) setupDiskBoot(spec.disk, { write, link, enable, findUnit: (u) => findUnit(tree, u, SYSTEM_UNITS.paths), workloadUnit: spec.workload?.unit });
  report.files.sort();
  return report;
}

/** Boot assessment on a disk (disk-boot.ts): the mounts, the health check, bless-boot, the watchdog. */
function setupDiskBoot(
  disk: NonNullable<VmSystemSpec['disk']>,
  t: { write: (path: string, text: string | Buffer, mode?: number) => void; link: (path: string, target: string) => void; enable: (unit: string) => void; findUnit: (unit: string) => string | undefined; workloadUnit?: string },
): void {
  t.write(DISK_MOUNTS_SCRIPT, diskMountsScript(), 0o755);
  t.write(`${UNIT_DIR}/${DISK_MOUNTS_UNIT}`, diskMountsUnit());
  t.enable(DISK_MOUNTS_UNIT);
  t.write(DISK_JOURNAL_SCRIPT, diskJournalScript(), 0o755);
  t.write(`${UNIT_DIR}/${DISK_JOURNAL_UNIT}`, diskJournalUnit());
  t.enable(DISK_JOURNAL_UNIT);
  t.write(HEALTH_SCRIPT, healthScript(disk.healthcheck), 0o755);
  t.write(`${UNIT_DIR}/${HEALTH_UNIT}`, healthUnit(disk.healthcheck?.timeout ?? 60, t.workloadUnit));
  t.enable(HEALTH_UNIT);
  t.write(`${UNIT_DIR}/${BOOT_COMPLETE_UNIT}`, bootCompleteUnit());
  t.enable(BOOT_COMPLETE_UNIT);
  t.write('etc/systemd/system.conf.d/jeos-watchdog.conf', watchdogConf());
  for (const [unit, target, dropin] of [
    ['systemd-bless-boot.service', 'basic.target.wants', blessBootDropin()],
  ] as const) {
    const file = t.findUnit(unit);
    if (!file) {
      throw new JeosError('E_VM_UNIT_MISSING', `the image has no ${unit}, which boot assessment on a disk needs`, {
        hint: 'the lock adds systemd-boot (and systemd) for disk outputs: run jeos lock, then build again',
      });
    }
    t.link(`${UNIT_DIR}/${target}/${unit}`, file);
    t.write(`${UNIT_DIR}/${unit}.d/jeos-disk.conf`, dropin);
  }
  if (disk.update) setupImageUpdate(disk.update, t);
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
function setupTmpfiles(tree: ImageTree, spec: VmSystemSpec, report: VmSystemReport, mask: (unit: string, reason: string) => void): string[] {
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
function systemdUnitsImportingCredentials(tree: ImageTree, masked: ReadonlySet<string>): string[] {
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

/**
 * systemd gives every service the LANG of /etc/locale.conf, and C.UTF-8 without one.
 * Debian ships C.UTF-8 in libc-bin, which a closure often lacks, and then a program's
 * setlocale(…, "") fails (redis-server exits). Unless a package ships /etc/locale.conf,
 * jeos writes one naming C.UTF-8 when the image has that locale and C (built into glibc)
 * when it does not. The trim, which runs after this, keeps the locale the file names
 * (rule systemd-locale), so the choice still holds in the trimmed tree.
 */
function setLocale(tree: ImageTree, write: (path: string, text: string) => void): VmSystemReport['locale'] {
  const shipped = tree.stat(LOCALE_CONF);
  if (shipped) {
    const named = systemLocales(tree);
    const missing = named.filter((l) => !findLocale(tree, l));
    return {
      lang: named[0] ?? 'C',
      reason: `/${LOCALE_CONF} comes from ${shipped.pkg ? `the package ${shipped.pkg}` : "the workload's files"}${missing.length ? `; the image has no ${missing.join(', ')} locale, so setlocale() fails for it` : ''}`,
    };
  }
  const dir = findLocale(tree, SYSTEMD_DEFAULT_LOCALE);
  const lang = dir ? SYSTEMD_DEFAULT_LOCALE : 'C';
  write(LOCALE_CONF, `# Made by jeos: the locale systemd gives every service.\nLANG=${lang}\n`);
  return {
    lang,
    reason: dir
      ? `the image has the ${SYSTEMD_DEFAULT_LOCALE} locale (/${dir}), which the trim keeps`
      : `the image has no ${SYSTEMD_DEFAULT_LOCALE} locale (Debian ships /usr/lib/locale/C.utf8 in libc-bin): with systemd's default, LANG=${SYSTEMD_DEFAULT_LOCALE}, setlocale() would fail`,
  };
}

/**
 * A package unit enabled at boot that starts a program the workload runs would run it
 * twice (nginx.service next to the workload's nginx, or next to a start.sh that ends
 * with `exec nginx`): its enablement links are removed. The programs the workload runs
 * are its command's program and, when that is a script, what the script runs (read as
 * the trim reads scripts).
 */
function disableDuplicates(tree: ImageTree, workloadUnitName: string, command: readonly string[], path: string, report: VmSystemReport): void {
  const real = (p: string): string | undefined => {
    try {
      return tree.resolve(p, { followLast: true });
    } catch {
      return undefined;
    }
  };
  const runs = new Map(programsRunBy(tree, command, path).map((p) => [p.path, p]));
  for (const [link, node] of tree.entries()) {
    if (node.kind !== 'symlink' || !link.startsWith(`${UNIT_DIR}/`) || !/\.(wants|requires)\/[^/]+\.service$/.test(link)) continue;
    const unit = link.slice(link.lastIndexOf('/') + 1);
    if (unit === workloadUnitName) continue;
    const file = findUnit(tree, unit, SYSTEM_UNITS.paths);
    const exec = file ? execOf(tree.readFile(file.slice(1))?.toString('utf8') ?? '') : undefined;
    // systemd finds a bare ExecStart= name on its own fixed search path.
    const at = exec === undefined ? undefined : findCommand(tree, exec, DEFAULT_PATH);
    const run = at === undefined ? undefined : runs.get(real(at) ?? '');
    if (!run) continue;
    tree.remove(link);
    if (report.disabled.some((d) => d.unit === unit)) continue;
    const reason = `it starts ${exec}, which the workload's ${workloadUnitName} runs${run.via ? ` through ${run.via}` : ''}`;
    report.disabled.push({ unit, reason });
  }
}
