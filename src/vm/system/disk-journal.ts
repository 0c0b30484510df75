/**
 * The journal of a disk image's boots, kept on its /var partition: after a rollback, the boots
 * of the version that failed are still there to read (post-mortem), from the machine or from
 * the stopped disk on the host.
 *
 * journald keeps the journal in /run (`Storage=auto` with nothing asking it to flush: the
 * `out/vm` output, whose /var is the initramfs's, and systemd-journal-flush.service is masked in
 * every VM). On a disk boot, once jeos-disk-mounts.service has put the partition's overlay on
 * /var, this unit sends journald SIGUSR1, which is journald's "flush /run to /var" request
 * (journalctl --flush asks the same over varlink, and the image has no journalctl): from then
 * on the journal is written to /var/log/journal/<machine-id>/. The image's /etc/machine-id is
 * empty, so systemd makes the ID at every boot: from the VM's SMBIOS UUID where the platform
 * gives one (QEMU's, a cloud instance's; then every boot writes to one directory, within
 * journald's SystemMaxUse), otherwise at random (then each boot has a directory of its own,
 * and journald's limits hold within one: this unit keeps the newest JOURNAL_BOOTS_KEPT).
 */
import { BUSYBOX } from '../busybox/busybox-network.js';
import { DISK_MOUNTS_UNIT, HEALTH_UNIT } from './disk-boot.js';

export const DISK_JOURNAL_SCRIPT = 'etc/jeos/disk-journal';
export const DISK_JOURNAL_UNIT = 'jeos-disk-journal.service';
/** Boots whose journal stays on /var (each at most the SystemMaxUse of journaldLimits()). */
export const JOURNAL_BOOTS_KEPT = 10;

export function diskJournalScript(): string {
  const bb = `/${BUSYBOX}`;
  return `#!${bb} sh
# Made by jeos: the journal on the /var partition (mounted by ${DISK_MOUNTS_UNIT}), so it outlives the boot.
bb=${bb}
$bb mkdir -p /var/log/journal
# Older boots' directories beyond the newest ${JOURNAL_BOOTS_KEPT - 1} go before this boot's is made.
cd /var/log/journal && $bb ls -1t | $bb tail -n +${JOURNAL_BOOTS_KEPT} | $bb xargs -r $bb rm -rf
# SIGUSR1 before journald handles it would end journald: wait for its varlink socket, made once it runs its loop.
i=0
until [ -S /run/systemd/journal/io.systemd.journal ]; do
  i=$((i + 1)); [ $i -ge 300 ] && { echo "jeos: journald not ready after 30 s; the journal stays in /run"; exit 0; }
  $bb sleep 0.1
done
/usr/bin/systemctl kill --signal=SIGUSR1 --kill-whom=main systemd-journald.service || exit 0
# journald says it has flushed by making this file; the health check waits for this unit, so a boot
# that completes (and syncs) has its journal on /var.
i=0
until [ -e /run/systemd/journal/flushed ]; do
  i=$((i + 1)); [ $i -ge 300 ] && { echo "jeos: journald did not flush the journal to /var within 30 s"; exit 0; }
  $bb sleep 0.1
done
`;
}

export function diskJournalUnit(): string {
  return [
    '# Made by jeos: the journal on the /var partition, so it outlives the boot (and a rolled-back version).',
    '[Unit]',
    'Description=jeos disk: the journal on /var',
    'ConditionKernelCommandLine=jeos.version',
    'DefaultDependencies=no',
    `Requires=${DISK_MOUNTS_UNIT}`,
    `After=${DISK_MOUNTS_UNIT} systemd-journald.service`,
    'Wants=systemd-journald.service',
    'Conflicts=shutdown.target',
    `Before=shutdown.target ${HEALTH_UNIT}`,
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    'StandardOutput=journal+console',
    `ExecStart=/${BUSYBOX} sh /${DISK_JOURNAL_SCRIPT}`,
    '',
    '[Install]',
    'WantedBy=sysinit.target',
    '',
  ].join('\n');
}
