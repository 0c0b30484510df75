import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JeosError } from '../errors.js';
import {
  MANIFEST_FILE,
  MANIFEST_VERSION,
  RECORD_FILE,
  RECORD_VERSION,
  TRIM_FILE,
  type BuildRecord,
  type ImageManifest,
  type TrimExplanations,
} from './types.js';

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new JeosError('E_RECORD_MISSING', `${path} does not exist`, { hint: `build first (jeos build): ${what} is written by every build`, cause: e });
    }
    throw new JeosError('E_RECORD_READ', `cannot read ${path}: ${(e as Error).message}`, { hint: 'check the output directory\'s permissions', cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new JeosError('E_RECORD_CORRUPT', `${path} is not valid JSON`, { hint: 'build again (jeos build) to write it anew', cause: e });
  }
}

function checkVersion(data: unknown, key: string, version: number, path: string): void {
  const found = (data as Record<string, unknown> | null)?.[key];
  if (found !== version) {
    throw new JeosError('E_RECORD_VERSION', `${path} has ${key} ${JSON.stringify(found)}; this jeos reads ${version}`, {
      hint: 'it was written by another jeos version: build again with this one',
    });
  }
}

/** out/build.json, checked to be of the version this jeos writes. */
export async function readRecord(outDir: string): Promise<BuildRecord> {
  const path = join(outDir, RECORD_FILE);
  const data = await readJson(path, 'build.json');
  checkVersion(data, 'recordVersion', RECORD_VERSION, path);
  return data as BuildRecord;
}

/** out/manifest.json: every path of each variant's tree. */
export async function readManifest(outDir: string): Promise<ImageManifest> {
  const path = join(outDir, MANIFEST_FILE);
  const data = await readJson(path, 'manifest.json');
  checkVersion(data, 'manifestVersion', MANIFEST_VERSION, path);
  return data as ImageManifest;
}

/** out/trim.json, or undefined when the last build did not trim. */
export async function readTrimExplanations(outDir: string): Promise<TrimExplanations | undefined> {
  const path = join(outDir, TRIM_FILE);
  try {
    return (await readJson(path, 'trim.json')) as TrimExplanations;
  } catch (e) {
    if (e instanceof JeosError && e.code === 'E_RECORD_MISSING') return undefined;
    throw e;
  }
}
