import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandSearchPath, librarySearch } from './search-path.js';

test('DT_RPATH passes down the chain of loaders, $ORIGIN being the directory of the object that carries it', () => {
  const app = librarySearch({ rpath: '$ORIGIN/../lib:/opt/extra' }, '/opt/app/bin');
  assert.deepEqual(app, { dirs: ['/opt/app/lib', '/opt/extra'], inherited: ['/opt/app/lib', '/opt/extra'] });
  // A library the program loads: its own RPATH first, then the program's (not re-expanded for the library).
  const lib = librarySearch({ rpath: '${ORIGIN}/plugins' }, '/usr/lib/x86_64-linux-gnu', app.inherited);
  assert.deepEqual(lib.dirs, ['/usr/lib/x86_64-linux-gnu/plugins', '/opt/app/lib', '/opt/extra']);
  // With a DT_RUNPATH, an object searches no RPATH at all (its own is ignored), only its RUNPATH, and passes on
  // what it inherited: the objects it loads still search the RPATHs further up.
  const withRunpath = librarySearch({ rpath: '/ignored', runpath: '$ORIGIN' }, '/usr/lib/foo', lib.inherited);
  assert.deepEqual(withRunpath.dirs, ['/usr/lib/foo']);
  assert.deepEqual(withRunpath.inherited, lib.inherited);
  assert.deepEqual(librarySearch({}, '/x', withRunpath.inherited).dirs, lib.inherited);
  // A program's RUNPATH is not inherited.
  assert.deepEqual(librarySearch({ runpath: '/opt/app/lib' }, '/opt/app/bin').inherited, []);
});

test('search path entries: $LIB and $PLATFORM for the triplet, relative and unknown entries left out', () => {
  assert.deepEqual(expandSearchPath('/opt/$LIB:$PLATFORM/x:/a/${PLATFORM}/:relative::$ORIGINAL/x:/b/$UNKNOWN', '/o', 'x86_64-linux-gnu'), [
    '/opt/lib/x86_64-linux-gnu',
    '/a/x86_64',
  ]);
  assert.deepEqual(expandSearchPath('/opt/$LIB:/plain', '/o'), ['/plain']);
});
