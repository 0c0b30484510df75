/**
 * What a VM on a jeos disk adds for boot assessment (docs/disk.md, "Boot flow"):
 * - /var: the partition labelled jeos-var as an overlay over the image's own /var
 *   (its upper/ and work/), and the ESP on /efi, mounted early by a BusyBox script
 *   (there is no udev to name the partitions, so `findfs LABEL=` finds them), the ESP
 *   after fsck.fat -a has repaired what a power cut left;
 * - the workload's health check (jeos.yaml) as jeos-health.service, required by
 *   boot-complete.target, and then no failed units (what systemd-boot-check-no-failures
 *   checks, over D-Bus, which a jeos VM has not); a failure or the check's timeout
 *   reboots the machine, which is a failed try;
 * - systemd-bless-boot.service, which renames the entry once boot-complete.target is
 *   reached, started whenever systemd-boot counts this boot;
 * - systemd's hardware watchdog (QEMU's i6300esb), so a hang is a reset, not a wait;
 * - a line on the console once the boot is complete, for jeos test --disk.
 */
import { BUSYBOX } from '../busybox/busybox-network.js';

/** Kernel modules a disk's VM needs besides the drivers: the ESP (FAT and its code pages), /var (ext4, overlay), EFI variables, the watchdog. */
export const DISK_MODULES = ['vfat', 'nls_cp437', 'nls_ascii', 'ext4', 'overlay', 'efivarfs', 'i6300esb'] as const;

export const DISK_MOUNTS_SCRIPT = 'etc/jeos/disk-mounts';
export const DISK_MOUNTS_UNIT = 'jeos-disk-mounts.service';
export const HEALTH_SCRIPT = 'etc/jeos/health-check';
export const HEALTH_UNIT = 'jeos-health.service';
export const BOOT_COMPLETE_UNIT = 'jeos-boot-complete.service';
/** What the guest prints on the console once boot-complete.target is reached (jeos test --disk reads it). */
export const BOOT_COMPLETE_MARK = 'JEOS_BOOT_COMPLETE';
/** dosfstools' checker (DISK_ASSESSMENT_PACKAGES), run on the ESP before it is mounted. */
export const ESP_FSCK = '/usr/sbin/fsck.fat';
/** What the console says when fsck.fat -n finds the ESP clean after fsck.fat -a repaired it. */
export const ESP_CLEAN_MARK = 'the ESP is clean after the repair (fsck.fat -n)';
export const VAR_PARTITION_MOUNT = '/run/jeos/var';
export const ESP_MOUNT = '/efi';
/** systemd-boot sets this EFI variable when it boots an entry with a try counter. */
export const BOOT_COUNT_VARIABLE = '/sys/firmware/efi/efivars/LoaderBootCountPath-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f';

export interface DiskHealthcheck {
  http?: string;
  tcp?: number;
  dns?: { port: number };
  smtp?: number;
  imap?: number;
  ftp?: number;
  nats?: number;
  redis?: number;
  ldap?: number;
  ntp?: number;
  command?: string[];
  timeout: number;
}

const bb = `/${BUSYBOX}`;
/**
 * The vm output boots the same tree without a disk: these units run only when booted from a
 * disk's entry, whose options carry jeos.version=.
 */
const ON_DISK = 'ConditionKernelCommandLine=jeos.version';
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Shell text: fsck.fat -a on the block device in $esp before it is mounted, then fsck.fat -n when it
 * changed anything; both say what they found on the console. It never stops the boot: the running
 * version keeps booting, and jeos-update refuses, naming the ESP, when it cannot write to it.
 */
export function espRepairScript(): string {
  return `# A power cut while the ESP was written (an update, a blessing) can leave clusters no file owns or a damaged
# FAT, and the kernel remounts a FAT read-only at its first error: the machine could then never update again.
# fsck.fat repairs it before it is mounted, as systemd-fsck would; the boot goes on whatever it says.
fsck=${ESP_FSCK}
out=$($fsck -a "$esp" 2>&1); rc=$?
if [ $rc != 0 ]; then
  echo "jeos-disk: fsck.fat -a on the ESP ($esp) exited $rc: $(echo "$out" | $bb grep -v -e '^fsck\\.fat [0-9]' -e '^$' | $bb tr '\\n' ' ')"
  if out=$($fsck -n "$esp" 2>&1); then echo "jeos-disk: ${ESP_CLEAN_MARK}"
  else echo "jeos-disk: the ESP is still damaged after fsck.fat -a: $(echo "$out" | $bb grep -v -e '^fsck\\.fat [0-9]' -e '^$' | $bb tr '\\n' ' ')"; fi
fi
`;
}

/**
 * Shell text: fsck.fat -a saves the chains of clusters no file owned as FSCKnnnn.REC in the ESP's root
 * (-a salvages; it cannot be told to free them). On a jeos ESP they are pieces of a download a power
 * cut stopped, which nothing names: removed once the ESP is mounted at `mount`, so cuts cannot fill it.
 */
export function espSalvageCleanup(mount: string): string {
  return `for f in ${mount}/FSCK[0-9][0-9][0-9][0-9].REC ${mount}/fsck[0-9][0-9][0-9][0-9].rec; do
  [ -f "$f" ] || continue
  $bb rm -f "$f" && echo "jeos-disk: removed \${f#${mount}/}, clusters of a write a power cut stopped that fsck.fat saved"
done
`;
}

export function diskMountsScript(): string {
  return `#!${bb} sh
# Made by jeos: /var on the jeos-var partition (an overlay over the image's /var) and the ESP on ${ESP_MOUNT}.
bb=${bb}
i=0
while :; do
  var=$($bb findfs LABEL=jeos-var 2>/dev/null) && esp=$($bb findfs LABEL=ESP 2>/dev/null) && break
  i=$((i + 1)); [ $i -ge 100 ] && { echo "jeos: no partitions labelled jeos-var and ESP after 10 s"; exit 1; }
  $bb sleep 0.1
done
$bb mkdir -p ${VAR_PARTITION_MOUNT} ${ESP_MOUNT}
$bb mount -t ext4 -o noatime "$var" ${VAR_PARTITION_MOUNT} || exit 1
$bb mount -t overlay overlay -o lowerdir=/var,upperdir=${VAR_PARTITION_MOUNT}/upper,workdir=${VAR_PARTITION_MOUNT}/work /var || exit 1
# sync: FAT has no journal, so only synchronous writes keep the order they were made in on the disk (a version's
# kernel and initrd whole before the entry that names them; a power cut once left an entry naming two empty files,
# on which systemd-boot halts instead of falling back).
${espRepairScript()}$bb mount -t vfat -o sync,umask=0077,codepage=437,iocharset=ascii "$esp" ${ESP_MOUNT} || exit 1
${espSalvageCleanup(ESP_MOUNT)}`;
}

/** The health check as a shell loop: tried every second until it passes; the unit's timeout ends it. */
export function healthScript(h: DiskHealthcheck | undefined): string {
  let check: string;
  let what: string;
  if (!h) (check = 'true'), (what = 'no health check declared');
  else if (h.http) (check = `$bb wget -q -O /dev/null -T 5 ${q(h.http)}`), (what = `http ${h.http}`);
  else if (h.command) (check = h.command.map(q).join(' ')), (what = `command ${h.command.join(' ')}`);
  // BusyBox has no NTP client: inside the guest an ntp check only asks that no unit failed; jeos test probes it from the host.
  else if (h.ntp) (check = 'true'), (what = `ntp ${h.ntp}/udp, probed from the host only`);
  else {
    const port = h.tcp ?? h.dns?.port ?? h.smtp ?? h.imap ?? h.ftp ?? h.nats ?? h.redis ?? h.ldap;
    // Any answer within 3 s of connecting: BusyBox's nc exits non-zero when the connection is refused.
    (check = `echo | $bb timeout 3 $bb nc 127.0.0.1 ${port} >/dev/null`), (what = `tcp ${port}`);
  }
  return `#!${bb} sh
# Made by jeos: the workload's health check (jeos.yaml) inside the VM, before boot-complete.target.
bb=${bb}
until ${check}; do $bb sleep 1; done
# No unit may have failed either (systemd-boot-check-no-failures asks over D-Bus, which a jeos VM has not).
failed=$(/usr/bin/systemctl list-units --state=failed --plain --no-legend --no-pager)
if [ -n "$failed" ]; then echo "jeos-health: failed units: $failed"; exit 1; fi
echo "jeos-health: healthy (${what.replace(/["$`\\]/g, '')})"
`;
}

export function diskMountsUnit(): string {
  return [
    '# Made by jeos: /var on its partition and the ESP, before anything writes to /var.',
    '[Unit]',
    'Description=jeos disk: /var overlay and ESP',
    ON_DISK,
    'DefaultDependencies=no',
    'After=systemd-modules-load.service',
    'Before=local-fs.target systemd-tmpfiles-setup.service',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    'StandardOutput=journal+console',
    `ExecStart=${bb} sh /${DISK_MOUNTS_SCRIPT}`,
    '',
    '[Install]',
    'WantedBy=local-fs.target',
    '',
  ].join('\n');
}

export function healthUnit(timeoutSeconds: number, workloadUnit?: string): string {
  return [
    '# Made by jeos: this version counts as good only when its workload answers (boot assessment).',
    '[Unit]',
    'Description=jeos health check',
    ON_DISK,
    `Requires=${DISK_MOUNTS_UNIT}`,
    `After=${DISK_MOUNTS_UNIT} multi-user.target${workloadUnit ? ` ${workloadUnit}` : ''}`,
    'Before=boot-complete.target',
    // A failed or timed-out check reboots: systemd-boot counts the try, and after the last falls back.
    'FailureAction=reboot',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `TimeoutStartSec=${Math.max(1, Math.round(timeoutSeconds))}s`,
    'StandardOutput=journal+console',
    `ExecStart=${bb} sh /${HEALTH_SCRIPT}`,
    '',
    '[Install]',
    'RequiredBy=boot-complete.target',
    '',
  ].join('\n');
}

export function bootCompleteUnit(): string {
  return [
    '# Made by jeos: says on the console that boot-complete.target was reached (and the entry blessed), and the version.',
    '[Unit]',
    'Description=jeos boot complete',
    ON_DISK,
    // Without default dependencies multi-user.target is not ordered after it, which would be a
    // cycle (boot-complete.target comes after systemd-boot-check-no-failures, which comes after multi-user.target).
    'DefaultDependencies=no',
    'Requires=boot-complete.target',
    'After=boot-complete.target systemd-bless-boot.service',
    'Conflicts=shutdown.target',
    'Before=shutdown.target',
    '',
    '[Service]',
    'Type=oneshot',
    'StandardOutput=file:/dev/console',
    // On the disk before the console says so: the blessed entry, and what the workload wrote to /var by
    // then (a test stops QEMU as soon as the host's check passes, which is a power cut for the page cache).
    `ExecStartPre=${bb} sync`,
    // With the image's version (%A: os-release's IMAGE_VERSION) from userspace, whose console writes wait for
    // the UART: the kernel's own lines (its command line, which names the version too) give up after 10 ms
    // when the host reads the console late, and lose characters.
    `ExecStart=${bb} echo ${BOOT_COMPLETE_MARK} %A`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** systemd-bless-boot: started whenever systemd-boot counts this boot, and it may find the ESP without udev or blkid. */
export function blessBootDropin(): string {
  return [
    '# Made by jeos: the ESP is on /efi, mounted without udev; runs when systemd-boot counted this boot.',
    '[Unit]',
    `ConditionPathExists=${BOOT_COUNT_VARIABLE}`,
    `RequiresMountsFor=${ESP_MOUNT}`,
    `After=${DISK_MOUNTS_UNIT}`,
    '',
    '[Service]',
    'Environment=SYSTEMD_RELAX_ESP_CHECKS=1',
    `Environment=SYSTEMD_ESP_PATH=${ESP_MOUNT}`,
    '',
  ].join('\n');
}

export function watchdogConf(): string {
  return [
    '# Made by jeos: systemd arms the hardware watchdog (QEMU\'s i6300esb): a hung machine is reset, a failed try.',
    '[Manager]',
    'RuntimeWatchdogSec=30s',
    'RebootWatchdogSec=2min',
    '',
  ].join('\n');
}
