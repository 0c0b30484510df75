/**
 * The command table: every command a maintainer script runs is classified as
 * reproduced (an effect module carries it out), not applicable (it changes
 * nothing in an image built from scratch: queries, service starts, shell
 * builtins) or not reproduced (its effect is missing from the image, and the
 * report says so). Unknown commands are not reproduced; nothing is dropped.
 */
import type { Action } from '../actions.js';
import type { ExecutedCommand } from '../shell/interpret.js';
import { adduser, gpasswd, groupadd, useradd, usermod } from './account-commands.js';
import { parseArgs, UnsupportedCommand } from './args.js';
import { done, na, notReproduced, reproduced, type Args, type Classification, type ClassifyContext, type Handler } from './classification.js';
import { SERVICE_HANDLERS } from './service-commands.js';
import { APACHE_COMMANDS, apacheCommand } from './apache-commands.js';
import { pamAuthUpdate } from './pam-auth-update.js';
import { followsSecret, secretOutput } from './secrets.js';
import { grepQuiet } from './grep.js';
import { sedInPlace } from './sed.js';

export type { Classification, ClassifyContext } from './classification.js';
export { substitute } from './substitute.js';
import { chgrp, chmod, chown, cp, divert, install, ln, mkdir, mv, rm, rmdir, setcap, statoverrideAdd, touch } from './file-commands.js';
import { compareVersionsOp, ScriptWorld } from './world.js';

/** Files that effect modules write as a whole: a script writing them is covered by that effect. */
export function ownerEffect(path: string | undefined): string | undefined {
  const p = ScriptWorld.treePath(path);
  if (p === undefined) return undefined;
  if (/^etc\/(passwd|group|shadow|gshadow)-?$/.test(p) || /^etc\/(passwd|group|shadow|gshadow)\.(org|dpkg-\w+)$/.test(p)) return 'users';
  if (p === 'etc/ld.so.cache') return 'ld-so';
  if (p === 'etc/ca-certificates.conf' || p.startsWith('etc/ca-certificates.conf.') || p === 'etc/ssl/certs' || p.startsWith('etc/ssl/certs/')) return 'ca-certificates';
  if (p === 'etc/os-release') return 'os-release';
  if (p === 'etc/machine-id') return 'machine-id';
  if (p === 'var/lib/dpkg' || p.startsWith('var/lib/dpkg/')) return 'dpkg-database';
  if (p.startsWith('etc/alternatives/')) return 'alternatives';
  return undefined;
}

const QUERIES = [
  'grep', 'egrep', 'fgrep', 'cut', 'tr', 'sort', 'uniq', 'head', 'tail', 'wc', 'awk', 'mawk', 'gawk', 'basename', 'dirname',
  'readlink', 'realpath', 'stat', 'ls', 'md5sum', 'sha1sum', 'sha256sum', 'cmp', 'diff', 'expr', 'seq', 'date', 'uname', 'tty',
  'tput', 'stty', 'printenv', 'logger', 'pidof', 'pgrep', 'ps', 'getconf', 'nproc', 'mountpoint', 'findmnt', 'systemd-detect-virt',
  'ischroot', 'runlevel', 'mktemp', 'dpkg-query', 'dpkg-architecture', 'lsb_release', 'locale', 'getopt', 'sleep', 'pwck', 'grpck',
  'ucfq', 'xargs', 'od', 'hexdump', 'file', 'tee', 'getcap',
];
const SERVICES = ['invoke-rc.d', 'deb-systemd-invoke', 'service', 'start-stop-daemon', 'initctl', 'start', 'stop', 'restart', 'reload', 'kill', 'pkill', 'killall', 'nscd', 'udevadm', 'systemd-notify', 'telinit'];
const BUILTINS = ['set', ':', 'exit', 'return', 'shift', 'local', 'export', 'readonly', 'unset', 'read', 'break', 'continue', 'trap', 'umask', 'wait', 'cd', 'hash', 'alias', 'ulimit', 'getopts', 'exec'];
/** Functions of /usr/share/dpkg/sh/dpkg-error.sh, which scripts source to print messages. */
const MESSAGE_FUNCTIONS = ['setup_colors', 'debug', 'error', 'warning', 'usageerror', 'badusage', 'hint'];

const HANDLERS: Record<string, Handler> = {};
for (const q of QUERIES) HANDLERS[q] = () => na();
/** Configuration checkers: they read the configuration and change nothing (a failure would have stopped dpkg; the image's own start reports it). */
const CHECKERS = ['named-checkconf', 'named-checkzone', 'nsd-checkconf', 'unbound-checkconf'];
for (const c of CHECKERS) HANDLERS[c] = () => done('checks the configuration; changes nothing');
for (const s of SERVICES) HANDLERS[s] = () => done('acts on running services or processes; nothing runs while the image is built');
for (const b of BUILTINS) HANDLERS[b] = () => done();
for (const m of MESSAGE_FUNCTIONS) HANDLERS[m] = () => done('prints a message');

// grep -q on a file of the image: decided by reading it (grep.ts).
// A file an effect writes after the scripts (/etc/os-release) is left undecided.
const grepOn = (args: Args, ctx: ClassifyContext) => na(undefined, args.some((a) => ownerEffect(a)) ? undefined : grepQuiet(args, ctx.world));
HANDLERS['grep'] = (args, _cmd, ctx) => grepOn(args, ctx);
HANDLERS['egrep'] = (args, _cmd, ctx) => grepOn(['-E', ...args], ctx);
HANDLERS['fgrep'] = (args, _cmd, ctx) => grepOn(['-F', ...args], ctx);
HANDLERS['true'] = (_args, cmd, ctx) => (cmd.stdout.to === 'file' ? { ...writeOut(cmd, '', ctx.world), exit: true } : na(undefined, true));
HANDLERS[':'] = HANDLERS['true'];
HANDLERS['false'] = () => na(undefined, false);
HANDLERS['['] = (args, _cmd, ctx) => na(undefined, ctx.world.test(args[args.length - 1] === ']' ? args.slice(0, -1) : args));
HANDLERS['test'] = (args, _cmd, ctx) => na(undefined, ctx.world.test(args));
HANDLERS['which'] = (args, _cmd, ctx) => na(undefined, args.length === 1 && args[0] !== undefined ? ctx.world.commandExists(args[0]) : undefined);
HANDLERS['type'] = HANDLERS['which'];
// sed -i on an image file: run by the host's sed on the tree's copy (sed.ts).
HANDLERS['sed'] = (args, _cmd, ctx) =>
  args.some((a) => a !== undefined && (/^(-i|--in-place)/.test(a) || /^-[a-zA-Z]*i/.test(a))) ? fileActions(sedInPlace(args, ctx.world), ctx, 'by the host\'s sed on the image\'s copy') : na();
HANDLERS['find'] = (args) => {
  if (args.some((a) => a === undefined || ['-exec', '-execdir', '-ok', '-okdir', '-fprint', '-fprintf', '-fls'].includes(a))) return notReproduced('find changes files');
  return args.includes('-delete') ? notReproduced('find -delete removes files', { removesOnly: true }) : na();
};
HANDLERS['env'] = (args) => (args.length === 0 ? na() : notReproduced('env runs a command'));
HANDLERS['hostname'] = (args) => (args.length === 0 ? na() : notReproduced('sets the host name'));

HANDLERS['getent'] = (args, _cmd, ctx) => {
  const [db, key] = args;
  if (key === undefined || args.length !== 2) return na(undefined, undefined);
  if (db === 'passwd') return na(undefined, ctx.world.users.has(key));
  if (db === 'group') return na(undefined, ctx.world.groups.has(key));
  return na();
};
HANDLERS['id'] = (args, _cmd, ctx) => {
  const name = args.filter((a) => !a?.startsWith('-'));
  return na(undefined, name.length === 1 && name[0] !== undefined ? ctx.world.users.has(name[0]) : undefined);
};

HANDLERS['command'] = (args, cmd, ctx) => {
  if (args[0] === '-v' || args[0] === '-V') return na(undefined, args[1] === undefined ? undefined : ctx.world.commandExists(args[1]));
  return classifyWords(args, cmd, ctx);
};

HANDLERS['echo'] = (args, cmd, ctx) => {
  if (cmd.stdout.to !== 'file') return done();
  const words = [...args];
  let newline = '\n';
  if (words[0] === '-n') {
    words.shift();
    newline = '';
  }
  if (words.some((w) => w === undefined)) return writeOut(cmd, undefined, ctx.world);
  const text = words.join(' ');
  // dash's echo interprets backslash escapes; keep to text that has none.
  return writeOut(cmd, text.includes('\\') ? undefined : text + newline, ctx.world);
};
HANDLERS['printf'] = (_args, cmd) => (cmd.stdout.to === 'file' ? writeOut(cmd, undefined) : done());
HANDLERS['cat'] = (args, cmd, ctx) => {
  if (cmd.stdout.to !== 'file') return na();
  if (args.length === 0) return writeOut(cmd, cmd.stdin ? cmd.stdin.heredoc : undefined, ctx.world);
  const parts: string[] = [];
  for (const a of args) {
    const p = ScriptWorld.treePath(a);
    const data = p === undefined ? undefined : ctx.world.tree.readFile(p);
    if (!data) return writeOut(cmd, undefined, ctx.world);
    parts.push(data.toString('latin1'));
  }
  return writeOut(cmd, parts.join(''), ctx.world);
};

HANDLERS['.'] = (args) =>
  args[0] === '/usr/share/debconf/confmodule' ? done('debconf: non-interactive, defaults apply') : done(`sources ${args[0] ?? 'a file'}; its definitions are not read`);
HANDLERS['source'] = HANDLERS['.'];
HANDLERS['eval'] = () => notReproduced('eval runs text built at run time');

HANDLERS['dpkg'] = (args) => {
  if (args[0] === '--compare-versions') {
    const [, a, op, b] = args;
    return na(undefined, a === undefined || op === undefined || b === undefined ? undefined : compareVersionsOp(a, op, b));
  }
  const queries = /^(--compare-versions|--print-architecture|--print-foreign-architectures|-s|--status|-L|--listfiles|-S|--search|-l|--list|--assert-.*|--validate-.*|--get-selections|--version|-p|--print-avail)$/;
  return args.some((a) => a !== undefined && queries.test(a)) ? na() : notReproduced('dpkg changes the package database');
};
HANDLERS['dpkg-maintscript-helper'] = () => done('nothing to migrate on a first installation');
HANDLERS['dpkg-trigger'] = (args, _cmd, ctx) => {
  const names = args.filter((a): a is string => a !== undefined && !a.startsWith('-'));
  for (const n of names) ctx.activations.add(n);
  return done(`activates trigger ${names.join(' ')}; the interested package's run is reported with it`);
};
HANDLERS['dpkg-divert'] = (args, _cmd, ctx) => {
  if (args.some((a) => a !== undefined && /^--(list|listpackage|truename)$/.test(a))) return na();
  if (args.includes('--remove')) return done('no diversion exists on a first installation');
  return fileActions(divert(args.filter((a) => a !== '--add'), ctx.pkg), ctx, 'recorded in /var/lib/dpkg/diversions');
};
HANDLERS['dpkg-statoverride'] = (args, _cmd, ctx) => {
  if (args.includes('--list')) {
    const path = args[args.indexOf('--list') + 1];
    return na(undefined, path === undefined ? undefined : ctx.world.statOverrides.has(path));
  }
  if (args.includes('--remove')) return na('no override exists on a first installation');
  if (!args.includes('--add')) return notReproduced('dpkg-statoverride mode not understood');
  const actions = statoverrideAdd(args);
  for (const a of actions) if (a.kind === 'statoverride') ctx.world.statOverrides.add(a.path);
  return reproduced(actions);
};

HANDLERS['ldconfig'] = () => reproduced([{ kind: 'ldconfig' }], 'by the ld-so effect');
HANDLERS['update-ca-certificates'] = () => reproduced([{ kind: 'ca-certificates' }], 'by the ca-certificates effect');
HANDLERS['c_rehash'] = HANDLERS['update-ca-certificates'];
HANDLERS['systemd-machine-id-setup'] = () => reproduced([{ kind: 'machine-id' }], 'by the machine-id effect (left empty for first boot)');
const accounts: Handler = () => reproduced([{ kind: 'accounts' }], 'by the users effect');
for (const t of ['update-passwd', 'shadowconfig', 'pwconv', 'grpconv', 'systemd-sysusers']) HANDLERS[t] = accounts;
HANDLERS['systemd-tmpfiles'] = () => notReproduced('tmpfiles.d entries are applied by systemd-tmpfiles at boot, not in the image');

const accountsHandler =
  (fn: (args: Args) => Action[]): Handler =>
  (args, _cmd, ctx) => {
    const actions = fn(args);
    for (const a of actions) {
      if (a.kind === 'add-user') {
        ctx.world.users.add(a.name);
        if (a.group.kind === 'same') ctx.world.groups.add(a.name);
      } else if (a.kind === 'add-group') ctx.world.groups.add(a.name);
    }
    return reproduced(actions, 'by the users effect');
  };
HANDLERS['adduser'] = accountsHandler((a) => adduser('adduser', a));
HANDLERS['addgroup'] = accountsHandler((a) => adduser('addgroup', a));
HANDLERS['useradd'] = accountsHandler(useradd);
HANDLERS['groupadd'] = accountsHandler(groupadd);
HANDLERS['usermod'] = accountsHandler(usermod);
HANDLERS['gpasswd'] = accountsHandler(gpasswd);

const fileHandler =
  (fn: (args: Args) => Action[]): Handler =>
  (args, _cmd, ctx) => fileActions(fn(args), ctx);
HANDLERS['mkdir'] = fileHandler(mkdir);
HANDLERS['install'] = fileHandler(install);
HANDLERS['touch'] = fileHandler(touch);
HANDLERS['cp'] = fileHandler(cp);
HANDLERS['ln'] = fileHandler(ln);
HANDLERS['rm'] = fileHandler(rm);
HANDLERS['rmdir'] = fileHandler(rmdir);
HANDLERS['mv'] = fileHandler(mv);
HANDLERS['setcap'] = fileHandler(setcap);
HANDLERS['chown'] = fileHandler(chown);
HANDLERS['chgrp'] = fileHandler(chgrp);
HANDLERS['chmod'] = fileHandler(chmod);
HANDLERS['ucfr'] = () => done('ucf bookkeeping');
HANDLERS['ucf'] = (args, _cmd, ctx) => {
  const { operands } = parseArgs(args, {
    flags: { '--three-way': 'ignore', '--debconf-ok': 'ignore', '--purge': 'purge', '-p': 'purge', '--verbose': 'ignore', '-v': 'ignore', '--debug': 'ignore', '-d': 'ignore' },
    values: { '--sum-file': 'ignore', '--src-dir': 'ignore', '--state-dir': 'ignore' },
  });
  if (operands.length !== 2) throw new UnsupportedCommand('only ucf NEW DEST is reproduced');
  return fileActions([{ kind: 'copy', from: operands[0]!, to: operands[1]!, preserve: false, onlyIfMissing: true }], ctx);
};

Object.assign(HANDLERS, SERVICE_HANDLERS);
for (const a2 of Object.keys(APACHE_COMMANDS)) HANDLERS[a2] = (args, _cmd, ctx) => fileActions(apacheCommand(a2, args, ctx), ctx, 'links in /etc/apache2/*-enabled');
HANDLERS['pam-auth-update'] = (args, _cmd, ctx) => fileActions(pamAuthUpdate(args, ctx), ctx, 'from /usr/share/pam-configs, as on a first installation');
for (const py of ['py3compile', 'pycompile', 'pypy3compile', 'py3clean', 'pyclean']) {
  HANDLERS[py] = () => notReproduced('Python byte-code is not compiled into the image');
}

/** Classify one executed command. */
export function classify(cmd: ExecutedCommand, ctx: ClassifyContext): Classification {
  if (cmd.words.length === 0) {
    if (cmd.stdout.to === 'file') return writeOut(cmd, cmd.stdin ? cmd.stdin.heredoc : '', ctx.world);
    return { status: 'silent', exit: cmd.assigns.some((a) => a.value === undefined) ? undefined : true };
  }
  return classifyWords(cmd.words, cmd, ctx);
}

function classifyWords(words: Args, cmd: ExecutedCommand, ctx: ClassifyContext): Classification {
  const name = words[0];
  if (name === undefined) return notReproduced('the command name is not known when the image is built');
  const base = name.includes('/') ? name.slice(name.lastIndexOf('/') + 1) : name;
  if (base === 'db_get') return na('debconf: non-interactive, defaults apply', words[1] !== undefined && ctx.debconf.has(words[1]) ? true : undefined);
  if (base.startsWith('db_')) return na('debconf: non-interactive, defaults apply', base === 'db_fget' || base === 'db_metaget' ? undefined : true);
  const atStart = firstStartStep(base, words, cmd, ctx);
  if (atStart) return atStart;
  const handler = Object.hasOwn(HANDLERS, base) ? HANDLERS[base] : undefined;
  let result: Classification;
  try {
    if (!handler && ctx.world.commandExists(name) === false) {
      // The same packages installed by dpkg would not have it either: the command fails there too.
      return na(`${name} is not in the image, so the command fails (status 127) as it would under dpkg`, false);
    }
    result = handler ? handler(words.slice(1), cmd, ctx) : notReproduced(`${base} is not a command jeos reproduces`);
  } catch (e) {
    if (e instanceof UnsupportedCommand) return notReproduced(e.message);
    throw e;
  }
  // Output written to a file by a command that does not itself account for it.
  const writes = base === 'echo' || base === 'printf' || base === 'cat' || base === ':' || base === 'true';
  if (!writes && cmd.stdout.to === 'file' && result.status !== 'notReproduced') {
    const owner = ownerEffect(cmd.stdout.path);
    if (owner) return { ...result, status: 'reproduced', note: `by the ${owner} effect` };
    return { ...result, status: 'notReproduced', note: `its output goes to ${cmd.stdout.path ?? 'a file not known when the image is built'}` };
  }
  return result;
}

const AT_START = 'a per-instance secret: made at first start, before the workload, not baked into the image';

/**
 * A step that generates a per-instance secret, or a chmod/chown/chgrp of one: left to the first
 * start (secrets.ts). The secret counts as present for the conditions that follow, as it will be.
 */
function firstStartStep(base: string, words: Args, cmd: ExecutedCommand, ctx: ClassifyContext): Classification | undefined {
  const w = ctx.world;
  const stdout = cmd.stdout.to === 'file' ? cmd.stdout.path : undefined;
  const program = (name: string): string => w.findCommand(name) || name;
  const secret = secretOutput(base, words.slice(1), stdout);
  if (secret) {
    for (const p of secret.paths) {
      w.set(p, 'file');
      w.deferred.add(p);
    }
    const firstStart = {
      words: [program(words[0]!), ...(words.slice(1) as string[])],
      ...(stdout ? { stdout } : {}),
      paths: secret.paths,
      packages: secret.packages,
      makes: true,
      programs: secret.run ? secret.run.programs.map(program) : [program(words[0]!)],
      ...(secret.run ? { text: secret.run.text } : {}),
    };
    return { status: 'reproduced', note: AT_START, actions: [], exit: true, firstStart };
  }
  const follow = followsSecret(base, words.slice(1), w.deferred);
  if (!follow) return undefined;
  const [name, ...rest] = follow.words;
  const firstStart = { words: [program(name!), ...rest], paths: rest.slice(1), packages: ['coreutils'], makes: false, programs: [program(name!)] };
  if (follow.whole) return { status: 'reproduced', note: `${AT_START} (it acts on the secret)`, actions: [], exit: true, firstStart };
  const handler = HANDLERS[base]!;
  try {
    return { ...handler(words.slice(1), cmd, ctx), firstStart };
  } catch (e) {
    if (e instanceof UnsupportedCommand) return { ...notReproduced(e.message), firstStart };
    throw e;
  }
}

function writeOut(cmd: ExecutedCommand, content: string | undefined, world?: ScriptWorld): Classification {
  if (cmd.stdout.to !== 'file') return na();
  const path = cmd.stdout.path;
  const owner = ownerEffect(path);
  if (owner) return reproduced(owner === 'users' ? [{ kind: 'accounts' }] : [], `by the ${owner} effect`);
  if (path === undefined) return notReproduced('writes to a file not known when the image is built');
  if (isTemporary(path)) return done('a temporary file, not part of the image');
  if (!path.startsWith('/')) return notReproduced(`writes to ${path}, relative to a working directory the build does not have`);
  if (content === undefined) return notReproduced(`writes to ${path} text not known when the image is built`);
  world?.set(path, 'file');
  return reproduced([{ kind: 'write-file', path, content, append: cmd.stdout.append }]);
}

/** Scripts' scratch files (mktemp's, in /tmp): nothing of them stays in an installed system. */
function isTemporary(path: string): boolean {
  return /^\/tmp\/./.test(path) || /^\/var\/tmp\/./.test(path);
}

/** File actions: paths an effect owns are left to it; the world learns what the rest create or remove. */
function fileActions(actions: Action[], ctx: ClassifyContext, note?: string): Classification {
  const w = ctx.world;
  const kept: Action[] = [];
  const owners = new Set<string>();
  let absent = true;
  let temporary = false;
  for (const a of actions) {
    const paths =
      'paths' in a
        ? a.paths
        : a.kind === 'copy' || a.kind === 'move'
          ? [a.to]
          : a.kind === 'symlink'
            ? [a.link]
            : a.kind === 'statoverride' || a.kind === 'write-file' || a.kind === 'setcap' || a.kind === 'divert'
              ? [a.path]
              : [];
    const own = paths.map(ownerEffect);
    if (paths.length && own.every(Boolean)) {
      for (const o of own) owners.add(o!);
      continue;
    }
    if (paths.length && paths.every(isTemporary) && (a.kind !== 'move' || isTemporary(a.from))) {
      temporary = true;
      continue;
    }
    if (a.kind === 'remove') {
      const present = a.paths.filter((p) => w.kind(p, true) !== undefined);
      if (!present.length) continue;
      for (const p of present) w.set(p, 'absent');
      absent = false;
      kept.push({ ...a, paths: present });
      continue;
    }
    absent = false;
    if (a.kind === 'mkdir') {
      for (const p of a.paths) w.set(p, 'dir');
    } else if (a.kind === 'touch') {
      for (const p of a.paths) if (!w.kind(p)) w.set(p, 'file');
    } else if (a.kind === 'copy') {
      const dir = a.recursive && w.kind(a.from) === 'dir';
      const into = !a.noTargetDirectory && w.kind(a.to) === 'dir' && !a.from.endsWith('/.');
      w.set(into ? `${a.to.replace(/\/+$/, '')}/${a.from.replace(/\/+$/, '').split('/').pop()}` : a.to, dir ? 'dir' : 'file');
    } else if (a.kind === 'symlink') {
      w.set(w.kind(a.link) === 'dir' && !a.noDereference ? `${a.link}/${a.target.split('/').pop()}` : a.link, 'symlink');
    } else if (a.kind === 'write-file') {
      w.set(a.path, 'file');
    } else if (a.kind === 'move') {
      w.set(a.to, w.kind(a.from, true) ?? 'file');
      w.set(a.from, 'absent');
    }
    kept.push(a);
  }
  if (!kept.length && owners.size) return reproduced([], `by the ${[...owners].join(', ')} effect`);
  if (!kept.length && temporary) return done('a temporary file, not part of the image');
  if (!kept.length && absent) return na('nothing there to remove on a first installation');
  return reproduced(kept, note);
}
