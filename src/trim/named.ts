/**
 * Files a program opens by a fixed absolute path: what its configuration names
 * (`file "/usr/share/dns/root.hints";` in named.conf) and what the program itself
 * holds as a string (`/usr/share/icecast2/web` compiled in). Such a path, when it
 * is in the image, is as reachable as a library: the trim keeps it, and a
 * directory whole when it is the program's own (not a shared one like /usr/lib).
 *
 * It is a scan, not a parser of each format: a path in a comment counts as much
 * as one in a directive, and a path built at run time (a directory plus a name)
 * is only found when the directory itself is named. docs/trim.md says so.
 */
import { posix } from 'node:path';

/** Where paths that the trim would otherwise drop live; /etc, /var and the other kept areas need no scan. */
const TRIMMED_ROOTS = ['usr', 'lib', 'lib64', 'lib32', 'bin', 'sbin', 'opt'];

/**
 * Directories too broad to keep whole because a configuration or a program names them: the
 * shared directories of the merged-/usr layout. A path in them is kept file by file.
 */
const SHARED_DIRS = /^(usr|opt|lib|lib32|lib64|bin|sbin|usr\/(lib|lib32|lib64|libexec|share|bin|sbin|include|src|games|local(\/.*)?)|usr\/lib\/[a-z0-9_]+-linux-[a-z0-9_]+|usr\/share\/(doc|man|info|locale|lintian|common-licenses|pixmaps|applications|icons|fonts))$/;

/** At most this many files come from one named directory; a larger one is kept file by file as it is named. */
export const NAMED_DIR_LIMIT = 20_000;

/** Directories under /etc whose files configure other programs than the workload: their paths are not followed. */
const NOT_CONFIG = /^etc\/(init\.d|rc[0-6S]\.d|cron\.[a-z]+|cron\.d|logrotate\.d|systemd|init|apparmor|apparmor\.d|X11|bash_completion\.d|profile\.d|alternatives|ssl|ca-certificates|kernel|network|ppp|dhcp|grub\.d|update-motd\.d|sudoers\.d|selinux)(\/|$)/;

/** The biggest configuration file read (larger ones are data, not configuration). */
const MAX_CONFIG = 1 << 20;

/** Whether a kept file under /etc is read for the paths it names: text, no script, not another program's configuration. */
export function isConfigFile(path: string, data: Buffer, mode: number): boolean {
  if (!path.startsWith('etc/') || NOT_CONFIG.test(path) || data.length > MAX_CONFIG || (mode & 0o111) !== 0) return false;
  if (data[0] === 0x23 && data[1] === 0x21) return false; // a script: what it runs is read as a script
  return !data.subarray(0, 4096).includes(0);
}

/** Whether a directory named by a configuration file or a program may be kept whole. */
export function isSharedDir(path: string): boolean {
  return SHARED_DIRS.test(path);
}

const PATH_CHARS = /[A-Za-z0-9_.+@,~-]/;
const ROOTS = new RegExp(`(?:^|[\\s"'=:(\\[<>,|])(/(?:${TRIMMED_ROOTS.join('|')})/[^\\s"'\`;:()<>\\[\\]{}|,]*)`, 'g');

/**
 * Absolute paths under the trimmed parts of the tree (/usr, /lib, /opt, …) named in a configuration
 * file, as tree paths. Comment lines (`#`, `;`, `//`) are skipped; a word with a variable or a glob
 * (`$`, `%`, `*`, `?`) names no one file and is left out.
 */
export function pathsInConfig(text: string): string[] {
  const found = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.trimStart();
    if (line.startsWith('#') || line.startsWith(';') || line.startsWith('//')) continue;
    for (const m of line.matchAll(ROOTS)) {
      const word = m[1]!;
      if (/[$%*?\\]/.test(word)) continue;
      const clean = cleanPath(word);
      if (clean) found.add(clean);
    }
  }
  return [...found];
}

/**
 * Absolute paths under the trimmed parts of the tree held as C strings by a program (a NUL before and
 * after, as .rodata and .dynstr keep them), as tree paths. Strings with format directives (`%s`) or
 * globs are left out.
 */
export function pathsInProgram(data: Buffer): string[] {
  const found = new Set<string>();
  for (const root of TRIMMED_ROOTS) {
    const needle = Buffer.from(`\0/${root}/`, 'latin1');
    for (let at = data.indexOf(needle); at >= 0; at = data.indexOf(needle, at + 1)) {
      const end = data.indexOf(0, at + 1);
      if (end < 0 || end - at > 256) continue;
      const word = data.subarray(at + 1, end).toString('latin1');
      if (!/^\/[\x21-\x7e]+$/.test(word) || /[$%*?\\:;{}]/.test(word)) continue;
      const clean = cleanPath(word);
      if (clean) found.add(clean);
    }
  }
  return [...found];
}

/** A written path as a tree path: no trailing punctuation or slash, `.` and `..` resolved; undefined when it leaves the tree. */
function cleanPath(word: string): string | undefined {
  let w = word;
  while (w.length > 1 && !PATH_CHARS.test(w[w.length - 1]!) && w[w.length - 1] !== '/') w = w.slice(0, -1);
  w = w.replace(/[./]+$/, '');
  const normal = posix.normalize(w);
  if (!normal.startsWith('/') || normal === '/') return undefined;
  const tree = normal.slice(1);
  return TRIMMED_ROOTS.includes(tree.split('/')[0]!) && tree.includes('/') ? tree : undefined;
}
