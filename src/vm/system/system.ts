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
import type { ImageTree, NodeMeta } from '../../tree/index.js';
import { ensureTmp } from '../../configure/tmp-dir.js';
import { AUDIT_AGENT, AUDIT_PORT_NAME, auditAgentLine, auditAgentScript } from '../busybox/audit-agent.js';
import { BUSYBOX, DHCP_SCRIPT, dhcpScript, INIT_MOUNT_POINTS, INIT_SCRIPT, initScript, modulesByName, NETWORK_UNIT, networkUnit, SYSTEMD_BINARY } from '../busybox/busybox-network.js';
import { DISK_JOURNAL_SCRIPT, DISK_JOURNAL_UNIT, diskJournalScript, diskJournalUnit } from './disk-journal.js';
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
} from './disk-boot.js';
import { setupImageUpdate } from './update.js';
import { tmpfilesNotDone } from '../tmpfiles/tmpfiles.js';
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
  UDEV_RECORD_TMPFILES,
  udevRecordForFirstNic,
} from './units.js';
import { hostsFor } from './hosts.js';
import { exists, maskUnits, setupTmpfiles, systemdUnitsImportingCredentials } from './mask-units.js';
import type { VmSystemReport, VmSystemSpec } from './types.js';

export type { NetworkReport, VmSystemReport, VmSystemSpec } from './types.js';

export const SYSTEMD = SYSTEMD_BINARY;
const UNIT_DIR = SYSTEM_UNITS.dir;

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

  maskUnits(tree, spec, report, { link, mask });
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
