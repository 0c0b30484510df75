/**
 * A disk image that follows a channel (jeos.yaml's update:, docs/channels.md "The image side"):
 * /usr/lib/jeos/jeos-update, run by jeos-update.service from its timer, checks what
 * systemd-sysupdate offers, verifies the version's signed release.json (the channel key,
 * Valid-Until, newer than the running version, never a version that was rolled back), then
 * lets systemd-sysupdate install it (SHA256SUMS and its signature, kernel, initrd, the entry
 * with +3 last) and reboots, now or in the reboot window.
 *
 * The transfer files, the timer and the service come from the channel's side
 * (sysupdateFiles in src/lifecycle/channel), passed in here as text: this folder writes them.
 */
import { BUSYBOX } from '../busybox/busybox-network.js';
import { ESP_MOUNT } from './disk-boot.js';

/** Where the channel's transfers put a version's kernel and initrd on the ESP (src/lifecycle/channel's SYSUPDATE_ESP_DIR). */
const SYSUPDATE_DIR = 'jeos';

export const UPDATE_SCRIPT = 'usr/lib/jeos/jeos-update';
export const UPDATE_UNIT = 'jeos-update.service';
export const UPDATE_TIMER = 'jeos-update.timer';
export const UPDATE_REBOOT_UNIT = 'jeos-update-reboot.service';
export const UPDATE_REBOOT_TIMER = 'jeos-update-reboot.timer';
/** On /var (its own partition): survives reboots and new versions. */
export const UPDATE_STATE_DIR = '/var/lib/jeos';
/** Versions that were installed and rolled back, one a line: never installed again. */
export const ROLLED_BACK_FILE = `${UPDATE_STATE_DIR}/rolled-back`;
/** Left by jeos-update when a version is installed and the reboot waits for its window. */
export const REBOOT_PENDING = '/run/jeos/update-pending';

export interface ImageUpdateSpec {
  /** The transfer files, timer and service (sysupdateFiles), as absolute paths. */
  files: Array<{ path: string; text: string }>;
  /** The channel's public key alone, binary (the dearmoured channel.pub): systemd-sysupdate's keyring. */
  keyring: Uint8Array;
  keyringPath: string;
  /** `now`, or an OnCalendar= expression: the window the reboot waits for. */
  reboot: string;
}

const bb = `/${BUSYBOX}`;

/**
 * Debian version order (src/archive/version.ts) for the versions jeos.yaml allows
 * ([0-9][A-Za-z0-9.~]*: no epoch, no revision), in awk: `vercmp A B` prints -1, 0 or 1.
 */
const VERCMP_AWK = String.raw`
function ord(c) { if (c == "~") return -1; if (c == "") return 0; if (c ~ /[A-Za-z]/) return index(L, c) + 0; return index(L, c) + 256 }
function cmp(a, b,   x, y, i, j, n, m) {
  while (a != "" || b != "") {
    while ((a != "" && substr(a, 1, 1) !~ /[0-9]/) || (b != "" && substr(b, 1, 1) !~ /[0-9]/)) {
      x = ord(substr(a, 1, 1)); y = ord(substr(b, 1, 1))
      if (substr(a, 1, 1) ~ /[0-9]/) x = 0
      if (substr(b, 1, 1) ~ /[0-9]/) y = 0
      if (x != y) return x < y ? -1 : 1
      if (substr(a, 1, 1) !~ /[0-9]/) a = substr(a, 2)
      if (substr(b, 1, 1) !~ /[0-9]/) b = substr(b, 2)
    }
    match(a, /^[0-9]*/); n = substr(a, 1, RLENGTH); a = substr(a, RLENGTH + 1)
    match(b, /^[0-9]*/); m = substr(b, 1, RLENGTH); b = substr(b, RLENGTH + 1)
    sub(/^0+/, "", n); sub(/^0+/, "", m)
    if (length(n) != length(m)) return length(n) < length(m) ? -1 : 1
    if (n != m) return n < m ? -1 : 1
  }
  return 0
}
BEGIN { L = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.0123456789"; print cmp(A, B) }`;

/**
 * The script jeos-update.service runs. Every program by its absolute path (the trim keeps what
 * a script names): BusyBox for the shell's tools and wget, gpg, systemd-sysupdate and the
 * systemd-pull it runs. JEOS_* variables stand in for the image's paths in tests.
 */
export function updateScript(reboot: string): string {
  const now = reboot === 'now';
  return `#!${bb} sh
# Made by jeos: follow the channel (docs/channels.md, The image side). Refusals exit 1 with the reason.
set -u
bb=\${JEOS_BUSYBOX:-${bb}}
# systemd-sysupdate downloads with /usr/lib/systemd/systemd-pull and verifies with /usr/bin/gpg.
sysupdate=/usr/lib/systemd/systemd-sysupdate
gpg=/usr/bin/gpg
systemctl=/usr/bin/systemctl
sysupdate=\${JEOS_SYSUPDATE:-$sysupdate} gpg=\${JEOS_GPG:-$gpg} systemctl=\${JEOS_SYSTEMCTL:-$systemctl}
keyring=\${JEOS_KEYRING:-/etc/systemd/import-pubring.gpg}
channel=\${JEOS_CHANNEL:?no channel: JEOS_CHANNEL is set by jeos-update.service}
channel=\${channel%/}
state=\${JEOS_STATE:-${UPDATE_STATE_DIR}}
esp=\${JEOS_ESP:-${ESP_MOUNT}}
cmdline=\${JEOS_CMDLINE:-/proc/cmdline}
pending=\${JEOS_PENDING:-${REBOOT_PENDING}}
log() { echo "jeos-update: $*"; }
# The reason in what systemd-sysupdate (and systemd-pull, gpg) said: its DOWNLOAD INVALID line, else its last line.
why() { $bb grep -m 1 'DOWNLOAD INVALID' "$1" || $bb grep -v '^$' "$1" | $bb tail -n 1; }
refuse() { log "refused: $*"; exit 1; }
vercmp() { $bb awk -v A="$1" -v B="$2" '${VERCMP_AWK}' </dev/null; }
# The ESP's free space in KiB, and KiB as MB with one decimal.
espfree() { $bb df -P -k "$esp" | $bb awk 'NR == 2 { print $4 + 0 }'; }
mb() { $bb awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# Only from a blessed version (jeos-update.service is ordered after boot-complete.target; this says whether it was reached).
$systemctl is-active --quiet boot-complete.target || { log "the running version has not completed its boot (on trial): no update now"; exit 0; }

# What a run cut short left (systemd-sysupdate's temporaries, which no entry names and sysupdate never removes):
# only room taken on the ESP, which a few cut downloads of a whole version would fill.
for f in "$esp"/${SYSUPDATE_DIR}/.#sysupdate* "$esp"/loader/entries/.#sysupdate*; do
  [ -e "$f" ] || continue
  $bb rm -f "$f" && log "removed \${f#"$esp"}, left by an update that was cut short"
done

# A version sysupdate installed whose entry a power cut left empty, or naming a file that is not there or is
# empty (the rename reached the disk before the data): not bootable, yet sysupdate counts it installed and
# would never fetch it again. Its entry and files go, so the next check installs it anew.
for f in "$esp"/loader/entries/jeos-*.conf; do
  [ -e "$f" ] || continue
  $bb grep -q "^linux /${SYSUPDATE_DIR}/" "$f" 2>/dev/null || [ ! -s "$f" ] || continue
  v=\${f##*/jeos-}; v=\${v%.conf}; v=\${v%%+*}
  ok=1
  [ -s "$f" ] || ok=0
  for p in $($bb sed -n -e 's/^linux[[:space:]]\\{1,\\}//p' -e 's/^initrd[[:space:]]\\{1,\\}//p' "$f"); do [ -s "$esp$p" ] || ok=0; done
  [ "$ok" = 1 ] && continue
  # A FAT that a power cut left damaged is remounted read-only by the kernel at its first error: say so, do
  # not claim a removal that did not happen (the machine could not install anything until the ESP is repaired).
  $bb rm -f "$f" "$esp/${SYSUPDATE_DIR}/jeos-$v.linux" "$esp/${SYSUPDATE_DIR}/jeos-$v.initrd" ||
    refuse "version $v was left incomplete by a power cut during its install and cannot be removed from the ESP ($esp): it is read-only or damaged (the kernel remounts a FAT read-only at its first error); repair it with fsck.fat -a on the stopped disk's ESP"
  log "removed version $v: its entry or files were left incomplete (a power cut during its install); it will be installed again"
done

running=$($bb sed -n 's/.*jeos\\.version=\\([^ ]*\\).*/\\1/p' "$cmdline")
[ -n "$running" ] || refuse "no jeos.version= on the kernel command line: not booted from a jeos disk entry"

# A newer version whose entry ran out of tries (jeos-<v>+0-<n>.conf) was rolled back: recorded on /var.
$bb mkdir -p "$state" || exit 1
for f in "$esp"/loader/entries/jeos-*+0-*.conf; do
  [ -e "$f" ] || continue
  v=\${f##*/jeos-}; v=\${v%%+*}
  [ "$(vercmp "$v" "$running")" = 1 ] || continue
  $bb grep -qxF "$v" "$state/rolled-back" 2>/dev/null || { echo "$v" >>"$state/rolled-back"; log "$v was rolled back: it will not be installed again"; }
done

tmp=$($bb mktemp -d "\${JEOS_TMP:-/run}/jeos-update.XXXXXX") || exit 1
trap '$bb rm -rf "$tmp"' EXIT

# 1. What the channel offers. sysupdate fetches SHA256SUMS and verifies SHA256SUMS.gpg with the
# channel key; a bad or foreign signature makes it fail, and that is a refusal with its reason.
# check-new also exits 1 when there is nothing new (it is made for if): only a line saying what failed is a refusal.
if ! $sysupdate check-new >"$tmp/offered" 2>"$tmp/check.err" && $bb grep -qiE 'DOWNLOAD INVALID|fail|error|cannot|could not' "$tmp/check.err"; then
  $bb cat "$tmp/check.err" >&2
  refuse "systemd-sysupdate check-new failed, nothing fetched past SHA256SUMS ($(why "$tmp/check.err"))"
fi
offered=$($bb tail -n 1 "$tmp/offered")
[ -n "$offered" ] || { log "no new version (running $running)"; exit 0; }
case $offered in *[!A-Za-z0-9.~]*|[!0-9]*) refuse "the channel offers a version jeos does not name: $offered";; esac
# The disk's own version (its files lie where the transfers do not look, so sysupdate offers it) is no news.
[ "$offered" != "$running" ] || { log "no new version (running $running, the channel's newest)"; exit 0; }
# A version rolled back here is the channel's newest until a newer one comes: no alarm, nothing fetched.
if $bb grep -qxF "$offered" "$state/rolled-back" 2>/dev/null; then
  log "version $offered was rolled back on this machine: staying on $running until the channel offers a newer one"
  exit 0
fi

# 2. Its release.json, signed by the channel key.
release=$tmp/release.json
$bb timeout 60 $bb wget -q -O "$release" "$channel/jeos-$offered.release.json" || refuse "cannot fetch jeos-$offered.release.json from $channel"
$bb timeout 60 $bb wget -q -O "$release.gpg" "$channel/jeos-$offered.release.json.gpg" || refuse "cannot fetch jeos-$offered.release.json.gpg from $channel"
$bb mkdir -m 0700 "$tmp/gnupg"
$gpg --homedir "$tmp/gnupg" --batch --no-options --no-default-keyring --no-auto-key-locate --keyring "$keyring" --trust-model always \\
  --status-fd 1 --verify "$release.gpg" "$release" 2>"$tmp/gpg.err" >"$tmp/gpg.status"
$bb grep -q '^\\[GNUPG:\\] VALIDSIG ' "$tmp/gpg.status" || refuse "jeos-$offered.release.json is not signed by the channel key ($($bb tail -n 1 "$tmp/gpg.err"))"

# 3. Freeze and downgrade: the version offered, newer than this one, not rolled back, not expired.
field() { $bb sed -n "s/^  \\"$1\\": \\"\\([^\\"]*\\)\\",\\{0,1\\}$/\\1/p" "$release"; }
version=$(field version)
until=$(field validUntil)
[ "$version" = "$offered" ] || refuse "jeos-$offered.release.json is the release of version '$version'"
[ "$(vercmp "$version" "$running")" = 1 ] || refuse "version $version is not newer than the running $running"
case $until in [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z) ;; *) refuse "release $version has no validUntil";; esac
end=$($bb date -u -d "$($bb echo "$until" | $bb sed 's/T/ /; s/Z$//')" +%s) || refuse "release $version: unreadable validUntil $until"
now=\${JEOS_NOW:-$($bb date -u +%s)}
[ "$now" -lt "$end" ] || refuse "release $version expired at $until"

# 4. Room on the ESP for what release.json says the version's kernel, initrd and entry take (64 KiB a file for
# clusters and directory entries), counting as free what systemd-sysupdate may remove first (its other versions'
# files; never the running version's). Refused here, nothing is downloaded: the ESP is mounted sync, and a FAT
# filled cluster by cluster takes minutes to say it is full (docs/channels.md).
need=$($bb awk '/^  "files": / { n = split($0, f, /[{]"name":"/); for (i = 2; i <= n; i++) { split(f[i], a, /"/); if (a[1] !~ /[.](linux|initrd|conf)$/) continue; if (match(f[i], /"size":[0-9]+/)) s += substr(f[i], RSTART + 7, RLENGTH - 7) + 65536 } } END { printf "%.0f", s / 1024 + 0.5 }' "$release")
free=$(espfree)
reclaimable=$(for f in "$esp"/${SYSUPDATE_DIR}/jeos-*; do [ -f "$f" ] && case \${f##*/} in "jeos-$running".*) ;; *) $bb du -k "$f";; esac; done | $bb awk '{ s += $1 } END { print s + 0 }')
[ "\${need:-0}" -le "$((\${free:-0} + reclaimable))" ] ||
  refuse "no room on the ESP ($esp) for version $version: its kernel, initrd and entry take $(mb "$need") MB, $(mb "$free") MB free$([ "$reclaimable" = 0 ] || echo " and $(mb "$reclaimable") MB of older versions to remove") (nothing downloaded)"

# 5. Kernel, initrd, then the entry with +3 (systemd-sysupdate checks them against SHA256SUMS).
log "installing $version (running $running, release valid until $until)"
# Through a pipe, so sysupdate logs to it (to the journal natively otherwise, which jeos test's console lacks).
{ $sysupdate update "$version" 2>&1; echo $? >"$tmp/update.rc"; } | $bb tee "$tmp/update.log"
if [ "$($bb cat "$tmp/update.rc")" != 0 ]; then
  reason=$(why "$tmp/update.log")
  # Two failures that say little by themselves: a full ESP, and a download the channel's server cut off.
  if $bb grep -q 'No space left on device' "$tmp/update.log"; then
    reason="$reason: $(mb "$(espfree)") MB free on the ESP ($esp), too little for version $version's files"
  elif $bb grep -q 'Failed to retrieve' "$tmp/update.log"; then
    reason="$reason: a download from $channel did not complete"
  fi
  refuse "systemd-sysupdate could not install $version ($reason)"
fi
log "installed $version"

# 6. Into the new version: the boot assessment keeps it or falls back after three tries.
${now ? `log "rebooting into $version"
$systemctl reboot` : `$bb mkdir -p "\${pending%/*}" && echo "$version" >"$pending"
log "rebooting into $version in the window (${reboot.replace(/["$`\\]/g, '')})"`}
`;
}

/** The reboot window: a timer that reboots when jeos-update left a version waiting. */
export function rebootWindowUnits(calendar: string): Array<{ path: string; text: string }> {
  return [
    {
      path: `/etc/systemd/system/${UPDATE_REBOOT_TIMER}`,
      text: ['# Made by jeos: the window a machine reboots in once a new version is installed.', '[Unit]', 'Description=Reboot into an installed jeos version in the window', '', '[Timer]', `OnCalendar=${calendar}`, '', '[Install]', 'WantedBy=timers.target', ''].join('\n'),
    },
    {
      path: `/etc/systemd/system/${UPDATE_REBOOT_UNIT}`,
      text: [
        '# Made by jeos: reboots only when jeos-update installed a version.',
        '[Unit]',
        'Description=Reboot into the installed jeos version',
        `ConditionPathExists=${REBOOT_PENDING}`,
        '',
        '[Service]',
        'Type=oneshot',
        'ExecStart=/usr/bin/systemctl reboot',
        '',
      ].join('\n'),
    },
  ];
}

/** Write what follows the channel into a disk's VM tree, and enable the timers (so the trim keeps what they run). */
export function setupImageUpdate(spec: ImageUpdateSpec, t: { write: (path: string, data: string | Buffer, mode?: number) => void; enable: (unit: string) => void }): void {
  const files = [...spec.files, ...(spec.reboot === 'now' ? [] : rebootWindowUnits(spec.reboot))];
  for (const f of files) t.write(f.path.replace(/^\/+/, ''), f.text);
  t.write(spec.keyringPath.replace(/^\/+/, ''), Buffer.from(spec.keyring));
  t.write(UPDATE_SCRIPT, updateScript(spec.reboot), 0o755);
  t.enable(UPDATE_TIMER);
  if (spec.reboot !== 'now') t.enable(UPDATE_REBOOT_TIMER);
}
