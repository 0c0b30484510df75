import { readProjectFile, SOURCE_FILE_RULES } from '../config/project-files.js';
import type { Config } from '../config/schema.js';
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
    // Inside the project, links followed as the kernel would, a regular file: checked again here, when it is read.
    else data = await readProjectFile(contextDir, file.source!, { what: `workload.files ${file.path}: source`, ...SOURCE_FILE_RULES });
    const { uid, gid } = resolveOwner(accounts, file.owner, `workload.files ${file.path}`);
    const real = tree.writeFile(file.path, data, { mode: parseInt(file.mode, 8), uid, gid, mtime: epoch });
    added.push(`/${real}`);
  }
  return added;
}
