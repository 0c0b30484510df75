/**
 * File-system commands with literal arguments — mkdir, install, touch, cp, ln,
 * rm, rmdir, chown, chgrp, chmod, dpkg-statoverride --add — read into actions
 * the filesystem effect carries out on the tree.
 */
import type { Action } from '../actions.js';
import { octalMode, parseArgs, UnsupportedCommand } from './args.js';
import { capabilityXattr } from '../../util/capabilities.js';

type Args = Array<string | undefined>;

function absolute(paths: string[], what = 'path'): string[] {
  for (const p of paths) {
    if (!p.startsWith('/')) throw new UnsupportedCommand(`${what} ${p} is relative to a working directory the build does not have`);
  }
  return paths;
}

export function mkdir(args: Args): Action[] {
  // -Z sets the SELinux context of what is made: nothing to do in an image without SELinux labels (valkey's mkdir -pZ).
  const { opts, operands } = parseArgs(args, { flags: { '-p': 'parents', '--parents': 'parents', '-v': 'ignore', '--verbose': 'ignore', '-Z': 'ignore' }, values: { '-m': 'mode', '--mode': 'mode' } });
  const modeText = opts.get('mode');
  const mode = typeof modeText === 'string' ? octalMode(modeText) : undefined;
  if (typeof modeText === 'string' && mode === undefined) throw new UnsupportedCommand(`mode ${modeText} is not an octal mode`);
  if (!operands.length) throw new UnsupportedCommand('no directory named');
  return [{ kind: 'mkdir', paths: absolute(operands), parents: opts.has('parents'), ...(mode !== undefined ? { mode } : {}) }];
}

/** install -d [-m MODE] [-o USER] [-g GROUP] DIR…, and install [-m MODE] [-o][-g] SRC DEST. */
export function install(args: Args): Action[] {
  const { opts, operands } = parseArgs(args, {
    flags: { '-d': 'dir', '--directory': 'dir', '-D': 'parents', '-p': 'preserve', '--preserve-timestamps': 'preserve', '-v': 'ignore', '-c': 'ignore', '-C': 'ignore', '--compare': 'ignore' },
    values: { '-m': 'mode', '--mode': 'mode', '-o': 'owner', '--owner': 'owner', '-g': 'group', '--group': 'group' },
  });
  const modeText = opts.get('mode');
  const mode = typeof modeText === 'string' ? octalMode(modeText) : undefined;
  if (typeof modeText === 'string' && mode === undefined) throw new UnsupportedCommand(`mode ${modeText} is not an octal mode`);
  const owner = opts.get('owner');
  const group = opts.get('group');
  const ownership = (paths: string[]): Action[] =>
    owner !== undefined || group !== undefined
      ? [{ kind: 'chown', ...(typeof owner === 'string' ? { user: owner } : {}), ...(typeof group === 'string' ? { group } : {}), paths, recursive: false }]
      : [];
  if (opts.has('dir')) {
    const paths = absolute(operands);
    if (!paths.length) throw new UnsupportedCommand('no directory named');
    return [{ kind: 'mkdir', paths, parents: true, mode: mode ?? 0o755 }, { kind: 'chmod', mode: (mode ?? 0o755).toString(8), paths, recursive: false }, ...ownership(paths)];
  }
  if (operands.length !== 2) throw new UnsupportedCommand('only install SRC DEST with one source is reproduced');
  const [from, to] = absolute(operands);
  return [
    { kind: 'copy', from: from!, to: to!, preserve: false, onlyIfMissing: false },
    { kind: 'chmod', mode: (mode ?? 0o755).toString(8), paths: [to!], recursive: false },
    ...ownership([to!]),
  ];
}

export function touch(args: Args): Action[] {
  const { opts, operands } = parseArgs(args, {
    flags: { '-c': 'no-create', '--no-create': 'no-create', '-a': 'ignore', '-m': 'ignore', '-h': 'ignore', '--no-dereference': 'ignore' },
    values: { '-r': 'ignore', '--reference': 'ignore', '-d': 'ignore', '--date': 'ignore', '-t': 'ignore' },
  });
  if (opts.has('no-create')) return [];
  if (!operands.length) throw new UnsupportedCommand('no file named');
  return [{ kind: 'touch', paths: absolute(operands) }];
}

export function cp(args: Args): Action[] {
  const { opts, operands } = parseArgs(args, {
    flags: {
      '-p': 'preserve', '-a': 'archive', '--archive': 'archive', '--preserve': 'preserve', '-f': 'ignore', '--force': 'ignore', '-v': 'ignore',
      '-P': 'ignore', '-d': 'ignore', '-L': 'ignore', '-n': 'no-clobber', '--no-clobber': 'no-clobber', '-Z': 'ignore',
      '-r': 'recursive', '-R': 'recursive', '--recursive': 'recursive', '-T': 'no-target', '--no-target-directory': 'no-target',
    },
  });
  if (operands.length !== 2) throw new UnsupportedCommand('only cp SRC DEST with one source is reproduced');
  const [from, to] = absolute(operands);
  const archive = opts.has('archive');
  return [
    {
      kind: 'copy',
      from: from!,
      to: to!,
      preserve: archive || opts.has('preserve'),
      onlyIfMissing: opts.has('no-clobber'),
      ...(archive || opts.has('recursive') ? { recursive: true } : {}),
      ...(opts.has('no-target') ? { noTargetDirectory: true } : {}),
    },
  ];
}

export function ln(args: Args): Action[] {
  const { opts, operands } = parseArgs(args, {
    flags: { '-s': 'symbolic', '--symbolic': 'symbolic', '-f': 'force', '--force': 'force', '-n': 'no-deref', '--no-dereference': 'no-deref', '-T': 'no-deref', '--no-target-directory': 'no-deref', '-v': 'ignore', '-r': 'relative' },
  });
  if (!opts.has('symbolic')) throw new UnsupportedCommand('hard links are not reproduced');
  if (opts.has('relative')) throw new UnsupportedCommand('ln -r is not reproduced');
  if (operands.length !== 2) throw new UnsupportedCommand('only ln -s TARGET LINK is reproduced');
  const [target, link] = operands;
  absolute([link!], 'link name');
  return [{ kind: 'symlink', target: target!, link: link!, noDereference: opts.has('no-deref'), force: opts.has('force') }];
}

/** mv [-f] SRC DEST (one source). */
export function mv(args: Args): Action[] {
  const { operands } = parseArgs(args, { flags: { '-f': 'ignore', '--force': 'ignore', '-v': 'ignore', '-T': 'ignore', '--no-target-directory': 'ignore' } });
  if (operands.length !== 2) throw new UnsupportedCommand('only mv SRC DEST with one source is reproduced');
  const [from, to] = absolute(operands);
  return [{ kind: 'move', from: from!, to: to! }];
}

export function rm(args: Args): Action[] {
  const { opts, operands } = parseArgs(args, {
    flags: { '-f': 'ignore', '--force': 'ignore', '-r': 'recursive', '-R': 'recursive', '--recursive': 'recursive', '-v': 'ignore', '-d': 'dir' },
  });
  return [{ kind: 'remove', paths: absolute(operands), recursive: opts.has('recursive'), dirsOnly: false }];
}

export function rmdir(args: Args): Action[] {
  const { operands } = parseArgs(args, { flags: { '--ignore-fail-on-non-empty': 'ignore', '-v': 'ignore' } });
  return [{ kind: 'remove', paths: absolute(operands), recursive: false, dirsOnly: true }];
}

const OWNERSHIP_FLAGS = {
  '-R': 'recursive',
  '--recursive': 'recursive',
  '-h': 'ignore',
  '--no-dereference': 'ignore',
  '-f': 'ignore',
  '--silent': 'ignore',
  '--quiet': 'ignore',
  '-v': 'ignore',
  '-c': 'ignore',
  '-H': 'ignore',
  '-L': 'ignore',
  '-P': 'ignore',
};

/** chown [-R] USER[:GROUP] PATH…  (also USER.GROUP, :GROUP and USER: for the user's login group) */
export function chown(args: Args): Action[] {
  const { opts, operands } = parseArgs(args, { flags: OWNERSHIP_FLAGS });
  const [spec, ...paths] = operands;
  if (spec === undefined || !paths.length) throw new UnsupportedCommand('expected an owner and at least one path');
  const m = /^([^:.]*)(?:[:.](.*))?$/.exec(spec);
  const user = m?.[1] || undefined;
  const group = m?.[2];
  if (user === undefined && !group) throw new UnsupportedCommand(`owner ${spec} names nobody`);
  return [
    {
      kind: 'chown',
      ...(user ? { user } : {}),
      ...(group !== undefined && group !== '' ? { group } : group === '' ? { loginGroup: true } : {}),
      paths: absolute(paths),
      recursive: opts.has('recursive'),
    },
  ];
}

export function chgrp(args: Args): Action[] {
  const { opts, operands } = parseArgs(args, { flags: OWNERSHIP_FLAGS });
  const [group, ...paths] = operands;
  if (group === undefined || !paths.length) throw new UnsupportedCommand('expected a group and at least one path');
  return [{ kind: 'chown', group, paths: absolute(paths), recursive: opts.has('recursive') }];
}

/** chmod [-R] MODE PATH… with an octal or symbolic mode (u+s, g-w,o=rx, …). */
export function chmod(args: Args): Action[] {
  let recursive = false;
  const rest: string[] = [];
  for (const a of args) {
    if (a === undefined) throw new UnsupportedCommand('an argument is not known when the image is built');
    if (rest.length === 0 && ['-R', '--recursive'].includes(a)) recursive = true;
    else if (rest.length === 0 && ['-f', '-v', '-c', '--silent', '--quiet'].includes(a)) continue;
    else rest.push(a);
  }
  const [mode, ...paths] = rest;
  if (mode === undefined || !paths.length) throw new UnsupportedCommand('expected a mode and at least one path');
  if (applyMode(0o644, mode, false) === undefined) throw new UnsupportedCommand(`mode ${mode} is not understood`);
  return [{ kind: 'chmod', mode, paths: absolute(paths), recursive }];
}

/** dpkg-statoverride --add [--update] USER GROUP MODE PATH */
export function statoverrideAdd(args: Args): Action[] {
  const { opts, operands } = parseArgs(args, {
    flags: { '--add': 'add', '--update': 'update', '--force': 'ignore', '--force-all': 'ignore', '--force-statoverride-add': 'ignore', '--quiet': 'ignore' },
    values: { '--root': 'root', '--admindir': 'ignore' },
  });
  const root = opts.get('root');
  if (root !== undefined && root !== '' && root !== '/') throw new UnsupportedCommand(`--root ${String(root)} is not the image`);
  const [user, group, modeText, path] = operands;
  const mode = octalMode(modeText);
  if (operands.length !== 4 || mode === undefined) throw new UnsupportedCommand('expected USER GROUP MODE PATH');
  absolute([path!]);
  return [{ kind: 'statoverride', user: user!, group: group!, mode, path: path!, update: opts.has('update') }];
}

/**
 * Apply an octal or symbolic chmod mode to the current permission bits; undefined when
 * the mode is not understood. `isDir` matters for X.
 */
export function applyMode(current: number, mode: string, isDir: boolean): number | undefined {
  const octal = octalMode(mode);
  if (octal !== undefined) return octal;
  let bits = current & 0o7777;
  for (const clause of mode.split(',')) {
    const m = /^([ugoa]*)((?:[-+=][rwxXst]*)+)$/.exec(clause);
    if (!m) return undefined;
    const who = m[1] || 'a';
    const ops = m[2]!.match(/[-+=][rwxXst]*/g) ?? [];
    let whoMask = 0;
    if (who.includes('u') || who.includes('a')) whoMask |= 0o4700;
    if (who.includes('g') || who.includes('a')) whoMask |= 0o2070;
    if (who.includes('o') || who.includes('a')) whoMask |= 0o1007;
    for (const op of ops) {
      let perm = 0;
      for (const c of op.slice(1)) {
        if (c === 'r') perm |= 0o444;
        else if (c === 'w') perm |= 0o222;
        else if (c === 'x') perm |= 0o111;
        else if (c === 'X') perm |= isDir || (bits & 0o111) !== 0 ? 0o111 : 0;
        else if (c === 's') perm |= 0o6000;
        else if (c === 't') perm |= 0o1000;
      }
      perm &= whoMask;
      if (op[0] === '+') bits |= perm;
      else if (op[0] === '-') bits &= ~perm;
      else bits = (bits & ~(whoMask & 0o777)) | perm;
    }
  }
  return bits;
}

/** setcap CAPS FILE [CAPS FILE…] and setcap -r FILE. */
export function setcap(args: Args): Action[] {
  const words: string[] = [];
  let remove = false;
  for (const a of args) {
    if (a === undefined) throw new UnsupportedCommand('an argument is not known when the image is built');
    if (a === '-q' || a === '-v') continue;
    if (a === '-r') remove = true;
    else if (a === '-n') throw new UnsupportedCommand('namespaced (-n) capabilities are not reproduced');
    else words.push(a);
  }
  if (remove) return absolute(words).map((path) => ({ kind: 'setcap', path, value: Buffer.alloc(0) }));
  if (words.length === 0 || words.length % 2) throw new UnsupportedCommand('expected CAPS FILE pairs');
  const out: Action[] = [];
  for (let i = 0; i < words.length; i += 2) {
    const value = capabilityXattr(words[i]!);
    if (!value) throw new UnsupportedCommand(`capabilities ${words[i]} are not understood`);
    out.push({ kind: 'setcap', path: absolute([words[i + 1]!])[0]!, value });
  }
  return out;
}

/** dpkg-divert --add [--rename|--no-rename] [--package P|--local] [--divert TO] FILE, in a script run for PKG. */
export function divert(args: Args, pkg: string): Action[] {
  const { opts, operands } = parseArgs(args, {
    flags: { '--add': 'add', '--rename': 'rename', '--no-rename': 'no-rename', '--local': 'local', '--quiet': 'ignore', '--test': 'test' },
    values: { '--package': 'package', '--divert': 'divert', '--admindir': 'ignore', '--root': 'root', '--instdir': 'root' },
  });
  const root = opts.get('root');
  if (root !== undefined && root !== '' && root !== '/') throw new UnsupportedCommand(`--root ${String(root)} is not the image`);
  if (opts.has('test')) return [];
  if (operands.length !== 1) throw new UnsupportedCommand('expected one file');
  const [path] = absolute(operands);
  const to = opts.get('divert');
  const pkgOpt = opts.get('package');
  return [
    {
      kind: 'divert',
      path: path!,
      to: typeof to === 'string' ? to : `${path}.distrib`,
      ...(opts.has('local') ? {} : { package: typeof pkgOpt === 'string' ? pkgOpt : pkg }),
      rename: opts.has('rename'),
    },
  ];
}
