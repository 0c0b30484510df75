/**
 * Files a project names (jeos.yaml itself, workload.files sources) are read only from
 * inside the project directory, as the kernel would resolve them: every symlink followed,
 * and the real path must still be inside the project's real path. Only regular files are
 * read, opened without blocking (a FIFO would hang the read) and bounded in size (a
 * device such as /dev/zero never ends). A cloned project can carry any of these.
 */
import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { JeosError } from '../errors.js';

/** jeos.yaml is a page of settings; anything near this size is not one. */
export const MAX_CONFIG_BYTES = 1 << 20;
/** A workload file is copied into memory whole; past this it is not a config file or a script. */
export const MAX_SOURCE_BYTES = 1 << 30;

function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

export interface ProjectFile {
  /** What the file is, for messages: `workload.files source site/index.html`. */
  what: string;
  /** The code family of the errors: E_CONFIG_SOURCE_… or E_CONFIG_FILE_…. */
  codes: { outside: string; missing: string; notFile: string; tooLarge: string };
  limit: number;
}

/**
 * The real path of `name` (relative to the project directory, or absolute), refused
 * when it leaves the project or does not exist. Nothing is opened.
 */
export async function resolveInProject(projectDir: string, name: string, file: ProjectFile): Promise<string> {
  const root = await realpath(projectDir);
  const lexical = resolve(projectDir, name);
  if (!within(resolve(projectDir), lexical)) {
    throw new JeosError(file.codes.outside, `${file.what}: ${name} is outside the project ${projectDir}`, {
      hint: 'copy the file next to jeos.yaml (or below it) and name it relative to that directory',
    });
  }
  let real: string;
  try {
    real = await realpath(lexical);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new JeosError(file.codes.missing, `${file.what}: cannot find ${name} in ${projectDir}${code === 'ENOENT' ? '' : ` (${code})`}`, {
      hint: 'name a file relative to the directory holding jeos.yaml',
      cause: e,
    });
  }
  if (!within(root, real)) {
    throw new JeosError(file.codes.outside, `${file.what}: ${name} leads out of the project, to ${real}`, {
      hint: 'a symbolic link in a project must point inside it: copy the file into the project instead',
    });
  }
  return real;
}

/** Open a resolved project file for reading: a regular file of at most `file.limit` bytes, else refused (and closed). */
async function openRegular(real: string, name: string, file: ProjectFile): Promise<{ handle: FileHandle; size: number }> {
  // O_NOFOLLOW: the path just resolved has no link left in its last component; if one
  // appeared since, refuse rather than follow it. O_NONBLOCK: a FIFO does not hang the open.
  const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((e: NodeJS.ErrnoException) => {
    throw new JeosError(file.codes.missing, `${file.what}: cannot open ${name} (${e.code})`, {
      hint: e.code === 'ELOOP' ? 'the file was replaced by a symbolic link while jeos read it; check the project' : "check the file's permissions",
      cause: e,
    });
  });
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';
      throw new JeosError(file.codes.notFile, `${file.what}: ${name} is ${kind}, not a regular file`, { hint: 'name a regular file inside the project' });
    }
    if (st.size > file.limit) {
      throw new JeosError(file.codes.tooLarge, `${file.what}: ${name} has ${st.size} bytes, more than the ${file.limit} jeos reads`, { hint: 'name a smaller file' });
    }
    return { handle, size: st.size };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** Read a project file whole: resolved inside the project, a regular file, at most `file.limit` bytes. */
export async function readProjectFile(projectDir: string, name: string, file: ProjectFile): Promise<Buffer> {
  const { handle, size } = await openRegular(await resolveInProject(projectDir, name, file), name, file);
  try {
    // Read at most one byte past what stat said: a file that grows while being read is refused, not followed.
    const buffer = Buffer.alloc(size + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > size) {
      throw new JeosError(file.codes.tooLarge, `${file.what}: ${name} grew while jeos read it`, { hint: 'build again once nothing writes to it' });
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

export const CONFIG_FILE_RULES: Omit<ProjectFile, 'what'> = {
  codes: { outside: 'E_CONFIG_OUTSIDE', missing: 'E_CONFIG_MISSING', notFile: 'E_CONFIG_NOT_A_FILE', tooLarge: 'E_CONFIG_TOO_LARGE' },
  limit: MAX_CONFIG_BYTES,
};

export const SOURCE_FILE_RULES: Omit<ProjectFile, 'what'> = {
  codes: { outside: 'E_CONFIG_SOURCE_OUTSIDE', missing: 'E_CONFIG_SOURCE_MISSING', notFile: 'E_CONFIG_SOURCE_NOT_A_FILE', tooLarge: 'E_CONFIG_SOURCE_TOO_LARGE' },
  limit: MAX_SOURCE_BYTES,
};

/** Check every workload.files source without reading it (jeos config, and every command that loads jeos.yaml). */
export async function checkSources(projectDir: string, files: ReadonlyArray<{ path: string; source?: string }>): Promise<void> {
  for (const f of files) {
    if (f.source === undefined) continue;
    const rules: ProjectFile = { what: `workload.files ${f.path}: source`, ...SOURCE_FILE_RULES };
    const { handle } = await openRegular(await resolveInProject(projectDir, f.source, rules), f.source, rules);
    await handle.close();
  }
}
