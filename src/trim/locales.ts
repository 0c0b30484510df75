/**
 * The locale systemd gives every service: the one /etc/locale.conf names, or its
 * built-in default, C.UTF-8, without one. glibc's setlocale() loads a locale other
 * than C/POSIX from /usr/lib/locale/<name> (Debian ships only C.utf8 prebuilt, in
 * libc-bin); a locale that is not there makes setlocale(…, "") fail, and a program
 * that checks (redis-server) exits. The VM setup writes /etc/locale.conf naming a
 * locale the image has, and the trim keeps the locale it names (rules.ts).
 */
import type { ImageTree } from '../tree/index.js';

export const LOCALE_CONF = 'etc/locale.conf';
/** systemd's built-in LANG when nothing configures one (Debian builds it so). */
export const SYSTEMD_DEFAULT_LOCALE = 'C.UTF-8';
const LOCALE_DIR = 'usr/lib/locale';
const VARIABLES = /^(LANG|LC_[A-Z]+)$/;

/**
 * The locales systemd gives services: the values of LANG and LC_* in /etc/locale.conf, or
 * systemd's default when the file is missing or sets none. C and POSIX, built into glibc,
 * are not listed (LANG=C gives an empty list).
 */
export function systemLocales(tree: ImageTree): string[] {
  const text = tree.readFile(LOCALE_CONF)?.toString('utf8') ?? '';
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || !VARIABLES.test(m[1]!)) continue;
    const value = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
    if (value) names.add(value);
  }
  if (names.size === 0) names.add(SYSTEMD_DEFAULT_LOCALE);
  return [...names].filter((n) => n !== 'C' && n !== 'POSIX' && /^[A-Za-z0-9_.@-]+$/.test(n));
}

/**
 * The names glibc looks for under /usr/lib/locale for a locale: as written, and with
 * its codeset normalised (lower case, letters and digits only: `C.UTF-8` → `C.utf8`).
 */
export function localeSpellings(name: string): string[] {
  const m = /^([^.@]*)(?:\.([^@]*))?(@.*)?$/.exec(name);
  const normalised = m?.[2] ? `${m[1]}.${m[2].toLowerCase().replace(/[^a-z0-9]/g, '')}${m[3] ?? ''}` : name;
  return [...new Set([name, normalised])];
}

/** The directory setlocale() loads this locale from, when the tree has it (its LC_CTYPE is there); undefined for C and POSIX, built into glibc. */
export function findLocale(tree: ImageTree, name: string): string | undefined {
  if (name === 'C' || name === 'POSIX') return undefined;
  return localeSpellings(name).map((n) => `${LOCALE_DIR}/${n}`).find((dir) => {
    try {
      return tree.stat(`${dir}/LC_CTYPE`)?.kind === 'file';
    } catch {
      return false;
    }
  });
}
