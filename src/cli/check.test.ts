import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLine } from './check.js';

test("build --check's progress lines, one for each of the diagnosis's events", () => {
  assert.equal(checkLine({ type: 'check-start', what: 'image' }), 'check: the container image');
  assert.equal(checkLine({ type: 'check-start', what: 'VM' }), 'check: the VM image');
  assert.equal(
    checkLine({ type: 'named-dropped', what: 'image', paths: ['/usr/bin/x'] }),
    "check: the image's output names a dropped path (/usr/bin/x): no untrimmed build is needed to find what the trim broke",
  );
  assert.equal(checkLine({ type: 'untrimmed-build', what: 'VM' }), 'check: building the same VM untrimmed to compare');
  assert.equal(checkLine({ type: 'untrimmed-fails', what: 'VM' }), 'check: the untrimmed VM fails too: the trim is not the cause');
  assert.equal(
    checkLine({ type: 'untrimmed-passes', what: 'VM', dropped: 1500 }),
    'check: the untrimmed VM passes, so the trim dropped something the workload needs; bisecting 1500 dropped paths',
  );
  assert.equal(checkLine({ type: 'needed', path: '/usr/lib/f3' }), 'check: the workload needs /usr/lib/f3 (a rebuild keeping it passed)');
});
