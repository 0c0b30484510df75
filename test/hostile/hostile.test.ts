// The hostile-input suite: one table of bad inputs, each refused with its code (or, for
// plants jeos must ignore, built past), and nothing changed in out/, the cache or on the
// host paths involved. Cases live in cases/, one file per kind of input.
import { after, before, describe, test } from 'node:test';
import { archiveCases } from './cases/archive.js';
import { debCases } from './cases/deb.js';
import { projectCases } from './cases/project.js';
import { startSuite, type HostileCase, type Suite } from './harness.js';

const CASES: HostileCase[] = [...projectCases, ...archiveCases, ...debCases];

describe('hostile inputs', () => {
  let suite: Suite;
  before(async () => {
    suite = await startSuite();
  });
  after(async () => {
    await suite?.close();
  });
  CASES.forEach((c, i) => test(`${c.code === 'ok' ? 'ignored' : c.code}: ${c.name}`, () => suite.run(c, i)));
});
