import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { z } from 'zod';
import { JeosError } from '../errors.js';
import { sha256 } from '../util/hash.js';
import { ConfigSchema, type Config } from './schema.js';
import { checkSources, CONFIG_FILE_RULES, readProjectFile } from './project-files.js';
import { nearest } from './suggest.js';

export const CONFIG_FILE = 'jeos.yaml';

export interface LoadedConfig {
  /** Absolute path of jeos.yaml and the directory it is in (the build context). */
  path: string;
  dir: string;
  config: Config;
  /** SHA256 of the normalized config (defaults applied, keys sorted): what a lock is made for. */
  digest: string;
}

/**
 * Load `DIR/jeos.yaml` (or a file path), and check that every workload.files source is a
 * regular file inside the project (`sources: false` skips that, for commands that only
 * read the debian: settings).
 */
export async function loadConfig(dirOrFile = '.', options: { sources?: boolean } = {}): Promise<LoadedConfig> {
  const abs = resolve(dirOrFile);
  const isDir = (await stat(abs).catch(() => undefined))?.isDirectory() ?? false;
  const path = isDir ? join(abs, CONFIG_FILE) : abs;
  let text: string;
  try {
    text = (await readProjectFile(dirname(path), basename(path), { what: CONFIG_FILE, ...CONFIG_FILE_RULES })).toString('utf8');
  } catch (e) {
    if (!(e instanceof JeosError) || e.code !== 'E_CONFIG_MISSING') throw e;
    throw new JeosError('E_CONFIG_MISSING', `cannot read ${path}`, {
      hint: `create ${CONFIG_FILE} in the directory (see docs/config.md or the examples/ folder), or pass the right DIR`,
      cause: e,
    });
  }
  const config = parseConfig(text, path);
  // update.key is checked as a workload file is: inside the project, a regular file (read when the VM is built).
  if (options.sources ?? true) await checkSources(dirname(path), [...config.workload.files, ...(config.update ? [{ path: 'update.key', source: config.update.key }] : [])]);
  return { path, dir: dirname(path), config, digest: configDigest(config) };
}

const MAX_PROBLEMS = 10;
const clip = (line: string): string => (line.length > 200 ? `${line.slice(0, 200)}…` : line);

/** Parse and validate jeos.yaml text. Every problem names file:line:col. */
export function parseConfig(text: string, file = CONFIG_FILE): Config {
  if (text.includes('\0')) {
    throw new JeosError('E_CONFIG_NOT_TEXT', `${file} is not a text file`, {
      hint: `${CONFIG_FILE} is YAML text; check the path (a command's DIR is the directory holding ${CONFIG_FILE})`,
    });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length) {
    // A message quotes the token it stopped at: keep each short, and only the first few.
    const problems = doc.errors.map((e) => clip(`${at(e.pos[0])}: ${e.message.split('\n')[0]}`));
    throw new JeosError('E_CONFIG_YAML', problems[0]!, {
      hint: 'fix the YAML syntax (indentation, quotes, colons) at that position',
      details: [...problems.slice(1, MAX_PROBLEMS), ...(problems.length > MAX_PROBLEMS ? [`… and ${problems.length - MAX_PROBLEMS} more`] : [])],
    });
  }
  let data: unknown;
  try {
    // The yaml library refuses documents whose aliases would expand past a bound (a "billion laughs").
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    throw new JeosError('E_CONFIG_YAML', `${file}: ${(e as Error).message}`, {
      hint: 'jeos.yaml needs no YAML aliases that expand this much: write the values out',
      cause: e,
    });
  }
  const result = ConfigSchema.safeParse(data);
  if (result.success) return result.data;

  const problems: string[] = [];
  const hints: string[] = [];
  // Unknown keys first: a misspelt key usually explains the "missing key" that follows it.
  const issues = [...result.error.issues].sort(
    (a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'),
  );
  for (const issue of issues) {
    const path = issue.path as Array<string | number>;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const known = knownKeys(path);
        const suggestion = nearest(key, known);
        const keyNode = keyNodeAt(doc.contents, [...path, key]);
        const where = [...path, key].join('.');
        problems.push(`${at(keyNode?.range?.[0])}: unknown key "${where}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`);
        hints.push(suggestion ? `rename "${key}" to "${suggestion}"` : `remove "${key}"; valid keys here: ${known.join(', ')}`);
      }
      continue;
    }
    const node = nearestNode(doc.contents, path);
    const where = path.length ? path.join('.') : '(top level)';
    let message = issue.message;
    if (issue.code === 'invalid_value' && 'values' in issue) {
      const got = valueAt(data, path);
      const suggestion = typeof got === 'string' ? nearest(got, issue.values.map(String)) : undefined;
      message = `"${String(got)}" is not one of ${issue.values.map(String).join(', ')}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`;
    } else if (issue.code === 'invalid_format') {
      message = `${JSON.stringify(valueAt(data, path))} is not valid: expected ${issue.message}`;
    } else if (issue.code === 'invalid_type' && valueAt(data, path) === undefined) {
      message = `missing required key (expected ${issue.expected})`;
    }
    problems.push(`${at(node?.range?.[0])}: ${where}: ${message}`);
  }
  throw new JeosError('E_CONFIG_INVALID', problems[0]!, {
    hint: hints[0] ?? 'see docs/config.md for every key, its type and default',
    details: problems.slice(1),
  });
}

/**
 * SHA256 over the part of the config that decides the package set (debian, the
 * workload's packages, recommends and profile, and the kernel when a VM is built), normalized: stable across key order,
 * comments and defaults spelled out or not. Changing the command, files or ports
 * does not make a lock stale; changing what is installed does.
 */
export function configDigest(config: Config): string {
  const { packages, recommends, profile } = config.workload;
  // A VM image also locks its kernel, init and network; images without one do not depend on vm:.
  // Defaults are left out, so that a lock stays fresh when a setting it predates is added with its default.
  // (A lock that predates a package a default now needs is stale by lockStatus, which checks the VM's packages.)
  const vm = config.outputs.includes('vm') || config.outputs.includes('disk')
    ? {
        kernel: config.vm.kernel,
        ...(config.vm.init !== 'systemd' ? { init: config.vm.init } : {}),
        ...(config.vm.network !== 'busybox' ? { network: config.vm.network } : {}),
      }
    : undefined;
  return sha256(stableJson({ debian: config.debian, workload: { packages, recommends, profile }, vm }));
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function valueAt(data: unknown, path: Array<string | number>): unknown {
  let v = data;
  for (const seg of path) v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined;
  return v;
}

/** The YAML node at path, or its closest existing ancestor. */
function nearestNode(root: unknown, path: Array<string | number>): Node | undefined {
  let node = root as Node | undefined;
  for (const seg of path) {
    let next: unknown;
    if (isMap(node)) next = node.items.find((p) => isScalar(p.key) && p.key.value === seg)?.value;
    else if (isSeq(node)) next = node.items[seg as number];
    if (!next) break;
    node = next as Node;
  }
  return node;
}

function keyNodeAt(root: unknown, path: Array<string | number>): Node | undefined {
  const parent = nearestNode(root, path.slice(0, -1));
  if (!isMap(parent)) return parent;
  const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
  return (pair?.key as Node | undefined) ?? parent;
}

/** The keys the schema allows for the object at path. */
function knownKeys(path: Array<string | number>): string[] {
  let schema: z.ZodType | undefined = ConfigSchema;
  for (const seg of path) {
    schema = unwrap(schema);
    const def = (schema as unknown as { def: { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType } }).def;
    if (def.type === 'object' && typeof seg === 'string') schema = def.shape?.[seg];
    else if (def.type === 'array') schema = def.element;
    else return [];
    if (!schema) return [];
  }
  const def = (unwrap(schema) as unknown as { def: { type: string; shape?: Record<string, unknown> } }).def;
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema as unknown as { def: { type: string; innerType?: unknown } };
  while ((s.def.type === 'default' || s.def.type === 'optional' || s.def.type === 'nullable') && s.def.innerType) {
    s = s.def.innerType as typeof s;
  }
  return s as unknown as z.ZodType;
}
