/**
 * The systemd units and configuration files a jeos VM adds to the image: the
 * workload's service (from jeos.yaml), DHCP on the first NIC, the report that
 * `jeos test --vm` reads from the second serial port, and journald's limits.
 */

/** One argument as systemd's ExecStart= reads it: quoted when needed, `$` and `%` escaped. */
export function unitWord(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (escaped !== '' && !/[\s"'\\;]/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export interface WorkloadUnitSpec {
  description: string;
  command: string[];
  user: string;
  workdir: string;
  env: Record<string, string>;
  restart: 'on-failure' | 'always' | 'no';
  /** workload.pre: ExecStartPre= lines, each `[-]program args…`, run before the command at every start. */
  pre?: Array<{ argv: string[]; mayFail: boolean }>;
  /** workload.environmentFiles: EnvironmentFile= lines, read by systemd at every start. */
  environmentFiles?: string[];
  /** workload.directories under /run: RuntimeDirectory= (a VM's /run is made at every boot), with the first one's mode. */
  runtimeDirectories?: Array<{ path: string; mode: string }>;
  /** workload.capabilities: AmbientCapabilities=, for a user that is not root. */
  capabilities?: string[];
}

/**
 * The workload as a service. Type=exec, so a command that cannot be executed fails
 * the unit at once; its output goes to the journal and to the serial console, so
 * `jeos run` shows it and `jeos test --vm` can print it when the workload fails.
 */
export function workloadUnit(spec: WorkloadUnitSpec): string {
  const [user, group] = spec.user.split(':');
  const lines = [
    '# Made by jeos from workload: in jeos.yaml.',
    '[Unit]',
    `Description=${spec.description.replace(/\n/g, ' ')}`,
    'After=network.target',
    // Restart bursts are left to systemd's defaults (5 starts in 10 s), then the unit fails and the
    // boot report is written again, so jeos test --vm sees the failure at once.
    `OnFailure=${REPORT_UNIT}`,
    '',
    '[Service]',
    'Type=exec',
    ...(spec.pre ?? []).map((p) => `ExecStartPre=${p.mayFail ? '-' : ''}${p.argv.map(unitWord).join(' ')}`),
    `ExecStart=${spec.command.map(unitWord).join(' ')}`,
    ...(user && user !== 'root' ? [`User=${user}`] : []),
    ...(group ? [`Group=${group}`] : []),
    `WorkingDirectory=${spec.workdir}`,
    ...Object.entries(spec.env).map(([k, v]) => `Environment=${unitWord(`${k}=${v}`)}`),
    ...(spec.environmentFiles ?? []).map((f) => `EnvironmentFile=${f}`),
    ...(spec.runtimeDirectories?.length
      ? [`RuntimeDirectory=${spec.runtimeDirectories.map((d) => d.path.replace(/^\/run\//, '')).join(' ')}`, `RuntimeDirectoryMode=${spec.runtimeDirectories[0]!.mode}`, 'RuntimeDirectoryPreserve=yes']
      : []),
    ...(spec.capabilities?.length && user && user !== 'root' ? [`AmbientCapabilities=${spec.capabilities.join(' ')}`] : []),
    `Restart=${spec.restart}`,
    'RestartSec=1',
    'StandardOutput=journal+console',
    'StandardError=journal+console',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return lines.join('\n');
}

/** Lines that frame the report on the second serial port. */
export const REPORT_BEGIN = 'JEOS_REPORT_BEGIN';
export const REPORT_END = 'JEOS_REPORT_END';
export const REPORT_UNIT = 'jeos-report.service';
/** The report's serial port: the second one, so the console stays readable. */
export const REPORT_TTY = '/dev/ttyS1';

/**
 * Once the boot is complete, the failed units, framed by two marker lines, on the
 * second serial port. The image may have no shell or echo, so the markers are
 * printed by `systemd-escape --unescape`, which prints its argument as it is.
 */
export function reportUnit(): string {
  return [
    '# Made by jeos: tells jeos test --vm, on the second serial port, which units failed once the boot finished.',
    '[Unit]',
    'Description=jeos boot report',
    'After=multi-user.target',
    'DefaultDependencies=no',
    '',
    '[Service]',
    'Type=oneshot',
    // The report runs once the workload has started, while it is still getting ready: on the CPU
    // only when nothing else wants it, so it does not delay the workload's first answer.
    // CPUSchedulingPolicy= takes effect only when systemd-executor is about to run the program, so
    // the executor's own start (loading systemd's shared libraries, slow under TCG) would
    // compete with the workload; CPUWeight=idle makes the unit's cgroup
    // idle (cpu.idle) from the moment systemd starts it.
    'CPUWeight=idle',
    'CPUSchedulingPolicy=idle',
    'IOSchedulingClass=idle',
    `StandardOutput=file:${REPORT_TTY}`,
    'StandardError=journal',
    `ExecStart=/usr/bin/systemd-escape --unescape ${REPORT_BEGIN}`,
    'ExecStart=/usr/bin/systemctl list-units --state=failed --plain --no-legend --no-pager',
    `ExecStart=/usr/bin/systemd-escape --unescape ${REPORT_END}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** DHCP on the first NIC. There is no udev to rename it, so it keeps the kernel's name. */
export const NETWORK_FILE = 'etc/systemd/network/20-jeos-dhcp.network';
export function dhcpNetwork(): string {
  return [
    '# Made by jeos: DHCP (IPv4) on the first network interface.',
    '[Match]',
    'Name=eth0',
    '',
    '[Network]',
    'DHCP=ipv4',
    'LinkLocalAddressing=no',
    'IPv6AcceptRA=no',
    '',
  ].join('\n');
}

/**
 * systemd-networkd configures an interface only once udev has announced it (its
 * record under /run/udev/data exists). A jeos VM has no udev, so the record of the
 * first NIC (interface index 2, after lo) is made at boot by systemd-tmpfiles,
 * before networkd starts. `I:` is the record's "initialised at" field.
 */
export const UDEV_RECORD_TMPFILES = 'etc/tmpfiles.d/jeos-network.conf';
export function udevRecordForFirstNic(): string {
  return ['# Made by jeos: this image has no udev; mark the first NIC as set up so systemd-networkd configures it.', 'f /run/udev/data/n2 0644 root root - I:1', ''].join('\n');
}

/**
 * systemd-networkd configures the first NIC only if its udev record exists when the
 * NIC appears, and the NIC appears when systemd-modules-load inserts virtio_net. Its
 * unit orders it after neither (udev would announce the NIC later), so jeos does.
 */
export const NETWORKD_DROPIN = 'etc/systemd/system/systemd-networkd.service.d/jeos.conf';
export function networkdOrdering(): string {
  return [
    '# Made by jeos: the image has no udev; start once the NIC exists and its udev record is made.',
    '[Unit]',
    'After=systemd-modules-load.service systemd-tmpfiles-setup.service',
    '',
  ].join('\n');
}

/**
 * systemd's own services import credentials (journald `ImportCredential=journal.*`,
 * networkd `network.*`, tmpfiles `tmpfiles.*`): for each, systemd-executor forks a
 * helper that makes a credentials directory in a mount of its own, even when there
 * is nothing to import. A
 * jeos VM has none to give them: its configuration is made at build time, and QEMU's
 * fw_cfg driver, one way credentials reach a VM, is not in the image. An empty
 * `ImportCredential=` in a drop-in clears the list.
 */
export const CREDENTIALS_DROPIN = 'jeos-credentials.conf';
export function noImportedCredentials(): string {
  return ['# Made by jeos: no credentials are passed to this VM; clearing the list spares a helper process and a mount at boot.', '[Service]', 'ImportCredential=', ''].join('\n');
}

/**
 * The journal lives in RAM (the whole OS does); keep it small. `Storage=auto` keeps it in /run
 * until something asks journald to flush it to /var, which only a disk image's boot does
 * (disk-journal.ts: its /var is a partition); systemd-journal-flush.service is masked.
 */
export const JOURNALD_DROPIN = 'etc/systemd/journald.conf.d/jeos.conf';
export function journaldLimits(): string {
  return [
    '# Made by jeos: the journal is kept in memory, in files of 2 MiB: with journald\'s default (an',
    '# eighth of RuntimeMaxUse) the first file filled its hash table during the boot and was rotated.',
    '# On a disk image it is flushed to the /var partition (jeos-disk-journal.service), 8 MiB a boot,',
    '# and written out every 15 s, so a version that hangs leaves its last lines there too.',
    '[Journal]',
    'Storage=auto',
    'RuntimeMaxUse=8M',
    'RuntimeMaxFileSize=2M',
    'SystemMaxUse=8M',
    'SystemMaxFileSize=2M',
    'SyncIntervalSec=15s',
    '',
  ].join('\n');
}

/**
 * journald does not hold the boot back. Debian's unit is `Type=notify` and ordered before
 * sysinit.target, so every service (the workload too) waited until journald had started,
 * and under TCG it finished last. Its sockets listen from the start (systemd-journald.socket),
 * so what is logged before it is ready waits in them: nothing is lost.
 * - `Type=exec`: systemd counts journald started once its program runs; `NotifyAccess=main`
 *   keeps its watchdog and file-descriptor store, which Type=notify implied.
 * - `StartupCPUWeight=10`: while the boot is under way, journald gets a tenth of the CPU
 *   share of the services starting next to it, the workload's among them; once the boot is
 *   done it has its full share again (CPUWeight=, unchanged).
 */
export const JOURNALD_SERVICE_DROPIN = 'etc/systemd/system/systemd-journald.service.d/jeos-boot.conf';
export function journaldAtBoot(): string {
  return [
    '# Made by jeos: journald takes its messages through its sockets, which listen from the start, so the',
    '# boot does not wait for it to be ready, and while the boot is under way the services starting',
    '# next to it (the workload among them) come first. Once the boot is done its CPU share is as before.',
    '[Service]',
    'Type=exec',
    'NotifyAccess=main',
    'StartupCPUWeight=10',
    '',
  ].join('\n');
}
