/**
 * Which installed package owns a file, from the machine's dpkg database
 * (var/lib/dpkg/info/*.list under the root): what `dpkg -S` answers, without
 * running dpkg. Paths are compared in their merged-/usr form.
 */
import { readdir, readFile } from 'node:fs/promises';
import { canonicalUsr, type HostFs } from './host-fs.js';

export class DpkgDb {
  private owners: Map<string, string[]> | undefined;

  constructor(private readonly fs: HostFs) {}

  /** Packages (names without :arch) whose file list has the path, sorted; empty when none or no database. */
  async ownersOf(path: string): Promise<string[]> {
    const owners = await this.load();
    return owners.get(canonicalUsr(path)) ?? [];
  }

  private async load(): Promise<Map<string, string[]>> {
    if (this.owners) return this.owners;
    const owners = new Map<string, string[]>();
    const info = this.fs.outside('/var/lib/dpkg/info');
    const names = await readdir(info).catch(() => [] as string[]);
    for (const file of names.filter((n) => n.endsWith('.list')).sort()) {
      const pkg = file.slice(0, -'.list'.length).split(':')[0]!;
      const text = await readFile(`${info}/${file}`, 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        if (!line.startsWith('/') || line === '/.') continue;
        const key = canonicalUsr(line);
        const list = owners.get(key);
        if (!list) owners.set(key, [pkg]);
        else if (!list.includes(pkg)) list.push(pkg);
      }
    }
    this.owners = owners;
    return owners;
  }
}
