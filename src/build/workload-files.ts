import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { JeosError } from '../errors.js';
import { readAccounts, resolveOwner, type ImageTree } from '../tree/index.js';

/**
 * Add the files jeos.yaml lists (inline content, or copied from the build context:
 * the directory holding jeos.yaml). Owners are names from the image's accounts, so
 * this runs after the configure stage has written /etc/passwd.
 */
export async function addWorkloadFiles(tree: ImageTree, files: Config['workload']['files'], contextDir: string, epoch: number): Promise<string[]> {
  const accounts = readAccounts(tree);
  const added: string[] = [];
  for (const file of files) {
    let data: Buffer;
    if (file.content !== undefined) data = Buffer.from(file.content);
    else {
      const source = resolve(contextDir, file.source!);
      const rel = relative(contextDir, source);
      if (rel.startsWith('..') || isAbsolute(rel)) {
        throw new JeosError('E_BUILD_SOURCE_OUTSIDE_CONTEXT', `workload.files: ${file.source} is outside the build context ${contextDir}`, {
          hint: 'copy the file next to jeos.yaml (or below it) and name it relative to that directory',
        });
      }
      try {
        data = await readFile(source);
      } catch (e) {
        throw new JeosError('E_BUILD_SOURCE_MISSING', `workload.files: cannot read ${source} for ${file.path}`, {
          hint: 'source is relative to the directory holding jeos.yaml',
          cause: e,
        });
      }
    }
    const { uid, gid } = resolveOwner(accounts, file.owner, `workload.files ${file.path}`);
    const real = tree.writeFile(file.path, data, { mode: parseInt(file.mode, 8), uid, gid, mtime: epoch });
    added.push(`/${real}`);
  }
  return added;
}
