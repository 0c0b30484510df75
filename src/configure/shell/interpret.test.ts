import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpret, type ExecutedCommand, type Tri } from './interpret.js';
import { parseScript, ShellSyntaxError } from './parse.js';

/** Runs a script; `[`/test decide = != -z -n, `cond` commands answer unknown, everything else succeeds. */
function run(script: string, positional = ['configure', ''], env: Record<string, string> = { DPKG_ROOT: '' }): ExecutedCommand[] {
  const seen: ExecutedCommand[] = [];
  interpret(parseScript(script), {
    positional,
    name: 'postinst',
    env,
    host: {
      run(cmd): Tri {
        seen.push(cmd);
        const [name, ...args] = cmd.words;
        if (name === '[' || name === 'test') {
          const a = name === '[' ? args.slice(0, -1) : args;
          if (a.some((x) => x === undefined)) return undefined;
          if (a.length === 2 && a[0] === '-z') return a[1] === '';
          if (a.length === 2 && a[0] === '-n') return a[1] !== '';
          if (a.length === 3 && a[1] === '=') return a[0] === a[2];
          if (a.length === 3 && a[1] === '!=') return a[0] !== a[2];
          return undefined;
        }
        if (name === 'cond') return undefined;
        if (name === 'false') return false;
        return true;
      },
    },
  });
  return seen;
}

const words = (cmds: ExecutedCommand[]): Array<Array<string | undefined>> => cmds.map((c) => c.words);
const effects = (cmds: ExecutedCommand[]): string[] => cmds.filter((c) => c.words[0] !== '[' && c.words.length).map((c) => c.words.map((w) => w ?? '?').join(' '));

test('variables, a wrapper function and "$@" (dbus-system-bus-common postinst)', () => {
  const cmds = run(`#!/bin/sh
set -e
MESSAGEUSER=messagebus
in_sysroot () {
    if [ -z "\${DPKG_ROOT:-}" ]; then
        "$@"
    else
        chroot "\${DPKG_ROOT}" "$@"
    fi
}
if [ "$1" = configure ]; then
    in_sysroot adduser --system \\
            --quiet \\
            --home /nonexistent \\
            --no-create-home \\
            --group "$MESSAGEUSER"
fi
`);
  assert.deepEqual(effects(cmds), ['set -e', 'adduser --system --quiet --home /nonexistent --no-create-home --group messagebus']);
  const adduser = cmds.find((c) => c.words[0] === 'adduser')!;
  assert.equal(adduser.line, 6);
  assert.equal(adduser.inFunction, 'in_sysroot');
  assert.equal(adduser.certain, true);
});

test('case picks the branch for $1; a first install has an empty $2', () => {
  const cmds = run(`case "$1" in
  configure) echo configuring "$2" ;;
  abort-upgrade|abort-remove) echo aborting ;;
  *) echo "unknown $1" >&2; exit 1 ;;
esac
if [ -n "$2" ]; then echo upgrade; else echo fresh; fi
[ -z "$2" ] && echo also-fresh
[ -n "$2" ] || echo not-upgrade
`);
  assert.deepEqual(effects(cmds), ['echo configuring ', 'echo fresh', 'echo also-fresh', 'echo not-upgrade']);
  assert.deepEqual(words(cmds.filter((c) => c.words[0] === 'echo')).slice(0, 1), [['echo', 'configuring', '']]);
});

test('an undecidable condition runs every branch, and what they set differently becomes unknown', () => {
  const cmds = run(`X=same
if cond; then Y=a; X=same; else Y=b; fi
echo "$X" "$Y"
if cond; then exit 0; fi
echo still-here
exit 0
echo never
`);
  const echoes = cmds.filter((c) => c.words[0] === 'echo');
  assert.deepEqual(echoes[0]!.words, ['echo', 'same', undefined]);
  assert.equal(echoes[1]!.words[1], 'still-here');
  assert.equal(echoes.length, 2);
  const exits = cmds.filter((c) => c.words[0] === 'exit');
  assert.equal(exits[0]!.certain, false);
  assert.equal(exits[1]!.certain, true);
});

test('here-documents: expanded unless the delimiter is quoted; output redirections', () => {
  const cmds = run(`NAME=world
cat > /etc/greeting <<EOF
hello $NAME
  \\$HOME stays
EOF
cat >> "/etc/$NAME" <<'EOF'
literal $NAME
EOF
echo done 2>/dev/null >/dev/null
echo err >&2
`);
  const [a, b, c, d] = cmds.filter((x) => x.words[0] === 'cat' || x.words[0] === 'echo');
  assert.deepEqual(a!.stdin, { heredoc: 'hello world\n  $HOME stays\n' });
  assert.deepEqual(a!.stdout, { to: 'file', path: '/etc/greeting', append: false });
  assert.deepEqual(b!.stdin, { heredoc: 'literal $NAME\n' });
  assert.deepEqual(b!.stdout, { to: 'file', path: '/etc/world', append: true });
  assert.deepEqual(c!.stdout, { to: 'terminal' });
  assert.deepEqual(d!.stdout, { to: 'terminal' });
});

test('functions are run with their arguments (base-files install_directory)', () => {
  const cmds = run(`install_directory() {
  if [ ! -d "$DPKG_ROOT/$1" ]; then
    mkdir "$DPKG_ROOT/$1"
    chown "root:$3" "$DPKG_ROOT/$1"
    chmod "$2" "$DPKG_ROOT/$1"
  fi
}
install_directory var/mail 2775 mail
install_directory srv 755 root
`);
  assert.deepEqual(effects(cmds), [
    'mkdir /var/mail',
    'chown root:mail /var/mail',
    'chmod 2775 /var/mail',
    'mkdir /srv',
    'chown root:root /srv',
    'chmod 755 /srv',
  ]);
});

test('for loops over known words; field splitting; ${VAR:+…} with an empty VAR', () => {
  const cmds = run(`LIST="a b  c"
for x in $LIST; do touch "/tmp/$x"; done
for y in "$LIST"; do echo "$y"; done
systemd-sysusers \${DPKG_ROOT:+--root="$DPKG_ROOT"} foo.conf
for z in $(ls); do rm "$z"; done
`);
  assert.deepEqual(effects(cmds), ['touch /tmp/a', 'touch /tmp/b', 'touch /tmp/c', 'echo a b  c', 'systemd-sysusers foo.conf', 'rm ?']);
  assert.equal(cmds.find((c) => c.words[0] === 'rm')!.certain, false);
});

test('a compound command redirected to a file sends its commands\' output there', () => {
  const cmds = run(`while read line; do
  echo "$line"
done < /etc/in > /etc/out.new
( echo a | tr a b ) >> /etc/log
`);
  const echo = cmds.find((c) => c.words[0] === 'echo' && c.words[1] === undefined)!;
  assert.deepEqual(echo.stdout, { to: 'file', path: '/etc/out.new', append: false });
  const piped = cmds.find((c) => c.words[0] === 'echo' && c.words[1] === 'a')!;
  assert.deepEqual(piped.stdout, { to: 'pipe' });
  assert.deepEqual(cmds.find((c) => c.words[0] === 'tr')!.stdout, { to: 'file', path: '/etc/log', append: true });
});

test('continuation lines join into one command (mawk postinst)', () => {
  const cmds = run(`if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ]; then
        update-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 \\
            --slave /usr/share/man/man1/awk.1.gz awk.1.gz /usr/share/man/man1/mawk.1.gz \\
            --slave /usr/bin/nawk nawk /usr/bin/mawk
fi
`);
  const ua = cmds.find((c) => c.words[0] === 'update-alternatives')!;
  assert.equal(ua.words.length, 14);
  assert.equal(ua.line, 2);
  assert.match(ua.raw, /^update-alternatives --install \/usr\/bin\/awk awk \/usr\/bin\/mawk 5 --slave/);
});

test('unquoted globs expand through the host; no match leaves the word as written', () => {
  const seen: ExecutedCommand[] = [];
  interpret(parseScript('rm -f /etc/x/*.bin "/etc/x/*.bin" /nothing/*.bin\nfor f in /etc/x/a?.conf; do echo "$f"; done\n'), {
    positional: ['configure', ''],
    name: 'postinst',
    env: {},
    host: {
      run: (cmd) => (seen.push(cmd), true),
      glob: (pattern) => (pattern === '/etc/x/*.bin' ? ['/etc/x/a.bin', '/etc/x/b.bin'] : pattern === '/etc/x/a?.conf' ? ['/etc/x/a1.conf'] : pattern.startsWith('/') ? [] : undefined),
    },
  });
  assert.deepEqual(seen[0]!.words, ['rm', '-f', '/etc/x/a.bin', '/etc/x/b.bin', '/etc/x/*.bin', '/nothing/*.bin']);
  assert.deepEqual(seen[1]!.words, ['echo', '/etc/x/a1.conf']);
});

test('db_get leaves the question\'s default in RET; set -- replaces the positional parameters', () => {
  const seen: ExecutedCommand[] = [];
  interpret(parseScript('db_get pkg/enable\nif [ "$RET" = true ]; then echo yes; fi\nset -- a "b c"\necho "$2" $#\n'), {
    positional: ['configure', ''],
    name: 'postinst',
    env: {},
    host: {
      run: (cmd) => {
        seen.push(cmd);
        return cmd.words[0] === '[' ? cmd.words[1] === cmd.words[3] : true;
      },
      debconf: (q) => (q === 'pkg/enable' ? 'true' : ''),
    },
  });
  assert.deepEqual(seen.filter((c) => c.words[0] === 'echo').map((c) => c.words), [['echo', 'yes'], ['echo', 'b c', '2']]);
});

test('prefix and suffix removal: ${x#p} ${x##p} ${x%p} ${x%%p}', () => {
  const cmds = run('d=/lib64; f=/usr/lib/libfoo.so.1.2\necho "/.${d#/}.usr-is-merged" ${f##*/} ${f%.*} ${f%%.*} ${f#nomatch}\n');
  assert.deepEqual(cmds.find((c) => c.words[0] === 'echo')!.words, ['echo', '/.lib64.usr-is-merged', 'libfoo.so.1.2', '/usr/lib/libfoo.so.1', '/usr/lib/libfoo', '/usr/lib/libfoo.so.1.2']);
});

test('syntax errors name the line', () => {
  assert.throws(() => parseScript('if true; then\n  echo x\n'), (e: unknown) => e instanceof ShellSyntaxError && /line 3/.test(e.message));
  assert.throws(() => parseScript('echo "unterminated\n'), ShellSyntaxError);
  assert.throws(() => parseScript('cat <<EOF\nno end\n'), /here-document/);
});
