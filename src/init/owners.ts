/**
 * From files on this machine to the archive packages that ship them: the
 * machine's dpkg database first (cheap and exact for what is installed here);
 * when it names a package the archive does not have (another release renamed it,
 * libssl3 → libssl3t64), the archive package that Provides that name; failing
 * both, the archive's Contents index, scanned once for every path still open.
 */
import { candidateOf, providersOf } from '../archive/candidates.js';
import { JeosError } from '../errors.js';
import { contentsOwners } from './contents.js';
import { DpkgDb } from './dpkg-db.js';
import type { HostFs } from './host-fs.js';
import type { InitContext } from './types.js';

export interface Owner {
  package: string;
  why: string;
}

/** Debian packages never ship files here (Policy 9.1): no need to look them up. */
const LOCAL = /^\/(usr\/local|opt|home|root|tmp|srv|var\/tmp|var\/local|run|mnt|media)\//;

export class PackageFinder {
  private readonly db: DpkgDb;
  /** Set when the archive has no Contents index, so paths dpkg does not know stay unanswered. */
  contentsMissing = false;

  constructor(
    private readonly ctx: InitContext,
    private readonly fs: HostFs,
  ) {
    this.db = new DpkgDb(fs);
  }

  /** The archive package for each path (as given: its symlink or real path may be the one a package lists); absent when none. */
  async find(paths: string[]): Promise<Map<string, Owner>> {
    const out = new Map<string, Owner>();
    const open: string[] = [];
    for (const path of paths) {
      const forms = await this.forms(path);
      const owner = await this.fromDpkg(forms);
      if (owner) out.set(path, owner);
      else if (!forms.some((f) => LOCAL.test(f))) open.push(path);
    }
    if (!open.length) return out;
    const byForm = new Map<string, string>();
    for (const path of open) for (const f of await this.forms(path)) byForm.set(f, path);
    let found: Map<string, string[]>;
    try {
      found = await contentsOwners(this.ctx, [...byForm.keys()]);
    } catch (e) {
      if (e instanceof JeosError && e.code === 'E_INIT_NO_CONTENTS') {
        this.contentsMissing = true;
        return out;
      }
      throw e;
    }
    for (const [form, packages] of found) {
      const path = byForm.get(form)!;
      const pkg = packages.find((p) => candidateOf(this.ctx.index, p));
      if (pkg && !out.has(path)) out.set(path, { package: pkg, why: `the archive's Contents index lists ${form} in ${pkg}` });
    }
    return out;
  }

  /** The path and, when it is a symlink, where it leads. */
  private async forms(path: string): Promise<string[]> {
    const real = await this.fs.realpath(path);
    return real && real !== path ? [path, real] : [path];
  }

  private async fromDpkg(forms: string[]): Promise<Owner | undefined> {
    for (const form of forms) {
      for (const installed of await this.db.ownersOf(form)) {
        const here = this.fs.root === '/' ? 'this machine' : this.fs.root;
        if (candidateOf(this.ctx.index, installed)) {
          return { package: installed, why: `${form} belongs to ${installed} (dpkg database of ${here})` };
        }
        const providers = providersOf(this.ctx.index, installed);
        if (providers.length === 1) {
          const p = providers[0]!.name;
          return { package: p, why: `${form} belongs to ${installed} on ${here}; the archive has no ${installed}, and ${p} provides it` };
        }
      }
    }
    return undefined;
  }
}
