/**
 * sysusers.d(5) fragments in the image: the declarative account requests that
 * systemd-sysusers (and the dh_installsysusers postinst snippet) would apply.
 * Files are read from /etc, /run, /usr/local/lib and /usr/lib sysusers.d, a
 * name in an earlier directory masking the same name in a later one, and
 * processed in file-name order, as systemd does.
 */
import type { ImageTree } from '../../tree/index.js';

export type SysusersLine =
  | { type: 'u'; name: string; uid?: number; gid?: number; groupName?: string; gecos?: string; home?: string; shell?: string; file: string }
  | { type: 'g'; name: string; gid?: number; file: string }
  | { type: 'm'; name: string; group: string; file: string };

const DIRS = ['etc/sysusers.d', 'run/sysusers.d', 'usr/local/lib/sysusers.d', 'usr/lib/sysusers.d'];

/** Split a line into fields, honouring double and single quotes. */
function fields(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return out;
}

const opt = (v: string | undefined): string | undefined => (v === undefined || v === '-' ? undefined : v);

export function readSysusers(tree: ImageTree): { files: string[]; lines: SysusersLine[]; ignored: string[] } {
  const chosen = new Map<string, string>();
  for (const dir of DIRS) {
    if (!tree.isDir(dir)) continue;
    for (const name of tree.list(dir)) {
      if (name.endsWith('.conf') && !chosen.has(name)) chosen.set(name, `${dir}/${name}`);
    }
  }
  const files = [...chosen.keys()].sort().map((n) => chosen.get(n)!);
  const lines: SysusersLine[] = [];
  const ignored: string[] = [];
  for (const file of files) {
    const text = tree.readFile(file)?.toString('utf8') ?? '';
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const [type, name, id, gecos, home, shell] = fields(line);
      if (!name) continue;
      if (type === 'u' || type === 'u!') {
        const u: SysusersLine = { type: 'u', name, file: `/${file}` };
        // The id field: `-`, `UID`, `UID:GID`, `UID:GROUP`, `-:GROUP` (a dynamic uid, an existing
        // primary group) or a path (take the ids of that file's owner: allocated dynamically here).
        const idv = id === undefined ? undefined : id;
        const m = idv === undefined ? undefined : /^(-|[0-9]+)(?::(.+))?$/.exec(idv);
        if (m) {
          if (m[1] !== '-') u.uid = Number(m[1]);
          if (m[2] !== undefined) {
            if (/^[0-9]+$/.test(m[2])) u.gid = Number(m[2]);
            else u.groupName = m[2];
          }
        } else if (idv !== undefined) {
          ignored.push(`/${file}: ${line} (an id taken from a file's owner is allocated dynamically instead)`);
        }
        if (opt(gecos) !== undefined) u.gecos = gecos;
        if (opt(home) !== undefined) u.home = home;
        if (opt(shell) !== undefined) u.shell = shell;
        lines.push(u);
      } else if (type === 'g') {
        const idv = opt(id);
        lines.push({ type: 'g', name, ...(idv !== undefined && /^[0-9]+$/.test(idv) ? { gid: Number(idv) } : {}), file: `/${file}` });
      } else if (type === 'm') {
        if (id) lines.push({ type: 'm', name, group: id, file: `/${file}` });
      } else if (type !== 'r') {
        ignored.push(`/${file}: ${line} (line type ${type} is not understood)`);
      }
    }
  }
  return { files, lines, ignored };
}
