/**
 * The image side of a channel, as pure functions: the systemd-sysupdate transfer files and the
 * timer jeos will write into an image that follows a channel (issue 26, point 3; the VM
 * variant writes them when jeos.yaml has update:), and the boot entry a channel carries.
 *
 * systemd-sysupdate 257 (trixie) matches a target's MatchPattern against the names in one
 * directory, so the versions it installs lie flat in /jeos on the ESP (`jeos-<v>.linux`), not
 * in the `jeos/<v>/` directories the disk writer and `jeos disk add` use; each entry names its
 * own files, so systemd-boot and `jeos disk status` (which read the entries) find both.
 */
import { BOOT_TRIES, versionPaths } from '../../outputs/disk/index.js';
import { NAME_PREFIX, versionFiles } from './layout.js';

/** Where a jeos disk's VM mounts the ESP (src/vm's disk mounts). */
const ESP_MOUNT = '/efi';

/** Where sysupdate puts a version's kernel and initrd, relative to the ESP's root. */
export const SYSUPDATE_ESP_DIR = 'jeos';
/** The channel's public key in the image: systemd-sysupdate's own keyring, holding only it. */
export const IMAGE_KEYRING = '/etc/systemd/import-pubring.gpg';
export const TRANSFER_DIR = '/etc/sysupdate.d';

/**
 * The channel's entry for a version: the disk's entry, its `linux` and `initrd` lines naming
 * where sysupdate puts the files. Everything else (title, version, sort key, options) is the
 * disk's own text.
 */
export function channelEntryText(diskEntry: string, version: string): string {
  const disk = versionPaths(version);
  const f = versionFiles(version);
  return diskEntry
    .split('\n')
    .map((line) => {
      if (line === `linux /${disk.linux}`) return `linux /${SYSUPDATE_ESP_DIR}/${f.linux}`;
      if (line === `initrd /${disk.initrd}`) return `initrd /${SYSUPDATE_ESP_DIR}/${f.initrd}`;
      return line;
    })
    .join('\n');
}

export interface FollowSettings {
  /** The channel's URL, e.g. http://updates.example.com/web/stable (no trailing slash needed). */
  url: string;
  /** Versions sysupdate keeps on the ESP, the running one included (the disk's own factory version is not its to count). */
  instancesMax?: number;
  /** The checks after the first, each this long after the last (OnUnitActiveSec=, default 1h). */
  onUnitActiveSec?: string;
  /** The first check, after boot (default 1min). */
  onBootSec?: string;
  /** Spread the checks of a fleet (default 10min). */
  randomizedDelaySec?: string;
}

export interface ImageFile {
  path: string;
  text: string;
}

function transfer(lines: { source: string[]; target: string[]; transfer?: string[] }): string {
  return [
    '# Written by jeos: follows the channel named below (docs/channels.md).',
    '[Transfer]',
    // %A is os-release's IMAGE_VERSION, the image's version (src/build/steps.ts): what InstancesMax removes
    // to make room is never the running version's.
    'ProtectVersion=%A',
    'Verify=yes',
    ...(lines.transfer ?? []),
    '',
    '[Source]',
    ...lines.source,
    '',
    '[Target]',
    ...lines.target,
    '',
  ].join('\n');
}

/**
 * /etc/sysupdate.d: kernel and initrd first, the entry last (sysupdate installs transfers in
 * the order of their names, so an entry never names a file that is not there yet), and the
 * timer that runs jeos-update.service.
 */
export function sysupdateFiles(s: FollowSettings): ImageFile[] {
  const url = s.url.replace(/\/+$/, '');
  const max = s.instancesMax ?? 2;
  const at = `${NAME_PREFIX}@v`;
  const file = (kind: 'linux' | 'initrd') => transfer({
    source: ['Type=url-file', `Path=${url}/`, `MatchPattern=${at}.${kind}`],
    target: ['Type=regular-file', `Path=/${SYSUPDATE_ESP_DIR}`, 'PathRelativeTo=esp', `MatchPattern=${at}.${kind}`, 'Mode=0644', `InstancesMax=${max}`],
  });
  const entry = transfer({
    source: ['Type=url-file', `Path=${url}/`, `MatchPattern=${at}.conf`],
    target: [
      'Type=regular-file',
      'Path=/loader/entries',
      'PathRelativeTo=esp',
      // The disk's names: jeos-<v>+3.conf when new, +L-D while tried, bare once blessed.
      `MatchPattern=${at}+@l-@d.conf ${at}+@l.conf ${at}.conf`,
      `TriesLeft=${BOOT_TRIES}`,
      'TriesDone=0',
      `InstancesMax=${max}`,
      'Mode=0644',
    ],
  });
  return [
    { path: `${TRANSFER_DIR}/10-jeos-linux.transfer`, text: file('linux') },
    { path: `${TRANSFER_DIR}/20-jeos-initrd.transfer`, text: file('initrd') },
    { path: `${TRANSFER_DIR}/90-jeos-entry.transfer`, text: entry },
    {
      path: '/etc/systemd/system/jeos-update.timer',
      text: [
        '# Written by jeos: when the image checks its channel for a new version.',
        '[Unit]',
        'Description=Check the jeos channel for a new version',
        '',
        '[Timer]',
        `OnBootSec=${s.onBootSec ?? '1min'}`,
        `OnUnitActiveSec=${s.onUnitActiveSec ?? '1h'}`,
        `RandomizedDelaySec=${s.randomizedDelaySec ?? '10min'}`,
        // systemd's default (1min) would let a check come up to a minute late; the spread above is what keeps a fleet apart.
        'AccuracySec=1s',
        // No Persistent=: it only means something for OnCalendar=, and the stamp it keeps on /var made systemd count
        // OnBootSec= as already fired when it had passed as the timer started, and with no run yet to count
        // OnUnitActiveSec= from, the timer never fired on any boot after the first.
        '',
        '[Install]',
        'WantedBy=timers.target',
        '',
      ].join('\n'),
    },
    {
      path: '/etc/systemd/system/jeos-update.service',
      text: [
        '# Written by jeos: release.json first (expiry, version), then systemd-sysupdate (SHA256SUMS, gpg).',
        '[Unit]',
        'Description=Update from the jeos channel',
        'Wants=network-online.target',
        // Never update from a version on trial: ordered after boot-complete.target, and the script checks it was reached.
        // Not Requisite=: a timer whose start job cannot be queued (the target not active, no job for it) fails and never fires again that boot.
        'After=network-online.target boot-complete.target',
        '',
        '[Service]',
        'Type=oneshot',
        // The reason for a refusal is in the journal, and on the console for jeos test --disk.
        'StandardOutput=journal+console',
        `Environment=JEOS_CHANNEL=${url}/`,
        // sysupdate finds the ESP where the disk's mounts put it, without udev (as systemd-bless-boot does).
        `Environment=SYSTEMD_ESP_PATH=${ESP_MOUNT} SYSTEMD_RELAX_ESP_CHECKS=1`,
        'ExecStart=/usr/lib/jeos/jeos-update',
        '',
      ].join('\n'),
    },
  ];
}
