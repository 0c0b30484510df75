/**
 * A VM's root.img (ext4) as a target, read without mounting or root with e2fsprogs'
 * `debugfs`: `rdump` copies the contents out (files and symlinks), and one batch of
 * `ls -p` over every directory gives each inode's type, mode and owner (rdump cannot
 * restore setuid bits, owners as a user, fifos or devices, so its copy is read only
 * for contents).
 */
import { mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JeosError } from '../../errors.js';
import { requireTool, run } from '../../boot/tools.js';
import { Collector, DPKG_STATUS, sha256 } from './collect.js';
import type { EntryType } from './types.js';

const TYPES: Record<number, EntryType> = {
  0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink', 0o020000: 'char', 0o060000: 'block', 0o010000: 'fifo',
};

function failed(path: string, what: string, stderr: string): JeosError {
  return new JeosError('E_AUDIT_BAD_TARGET', `${path}: debugfs could not ${what}: ${stderr.trim().split('\n').slice(-2).join(' ')}`, {
    hint: 'pass out/vm/root.img of a jeos build (an ext4 image), with the VM stopped',
  });
}

const quote = (p: string) => `"${p.replace(/(["\\])/g, '\\$1')}"`;

export async function readExt4(image: string, sizeOf: (path: string) => number | undefined): Promise<Collector> {
  await requireTool('debugfs', 'read an ext4 image without mounting it', 'e2fsprogs');
  const out = new Collector();
  const dump = await mkdtemp(join(tmpdir(), 'jeos-audit-ext4-'));
  try {
    const r = await run('debugfs', ['-R', `rdump / ${quote(dump)}`, image], { timeoutMs: 300_000 });
    if (r.code !== 0 || /Bad magic|not found|Couldn't find valid filesystem/i.test(r.stderr)) throw failed(image, 'read it', r.stderr);
    // Directories one level at a time: each batch lists the directories the last one found.
    let level = ['/'];
    out.put('/', { type: 'dir', mode: 0, uid: 0, gid: 0 });
    while (level.length) {
      const ls = await run('debugfs', ['-f', '-', image], { input: level.map((d) => `ls -p ${quote(d)}\n`).join(''), timeoutMs: 300_000 });
      if (ls.code !== 0) throw failed(image, 'list its directories', ls.stderr);
      const next: string[] = [];
      let dir: string | undefined;
      for (const line of ls.stdout.split('\n')) {
        const cmd = /^debugfs: ls -p "(.*)"$/.exec(line);
        if (cmd) {
          dir = cmd[1]!.replace(/\\(.)/g, '$1');
          continue;
        }
        // /inode/mode/uid/gid/name/size/ — a name may hold no slash, so the fields split cleanly.
        const m = /^\/(\d+)\/([0-7]+)\/(\d+)\/(\d+)\/(.*)\/(\d*)\/$/.exec(line);
        if (!m || dir === undefined) continue;
        const name = m[5]!;
        if (m[1] === '0' || name === '') continue; // an unused slot of a directory block (lost+found has them)
        const mode = parseInt(m[2]!, 8);
        const base = { mode: mode & 0o7777, uid: Number(m[3]), gid: Number(m[4]) };
        if (name === '.') {
          out.put(dir, { type: 'dir', ...base });
          continue;
        }
        if (name === '..') continue;
        const path = dir === '/' ? `/${name}` : `${dir}/${name}`;
        const type = TYPES[mode & 0o170000] ?? 'file';
        if (type === 'dir') next.push(path);
        else if (type === 'file') {
          const size = Number(m[6]);
          const expected = sizeOf(path);
          if (expected === undefined || expected === size || path === DPKG_STATUS) {
            const data = await readFile(join(dump, path));
            out.put(path, { type, ...base, size: data.length, sha256: sha256(data) }, data);
          } else out.put(path, { type, ...base, size });
        } else if (type === 'symlink') out.put(path, { type, ...base, target: await readlink(join(dump, path)) });
        else out.put(path, { type, ...base });
      }
      level = next;
    }
    return out;
  } finally {
    await rm(dump, { recursive: true, force: true });
  }
}
