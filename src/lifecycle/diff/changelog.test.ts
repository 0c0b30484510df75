import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cvesIn, entriesBetween, parseChangelog } from './changelog.js';

const text = `openssl (3.5.4-1~deb13u1) trixie-security; urgency=medium

  * Fix CVE-2025-9230 and CVE-2025-9231.
  * Also CVE-2025-9230 again.

 -- Maintainer <m@example.invalid>  Tue, 30 Sep 2026 10:00:00 +0000

openssl (3.5.1-1+deb13u1) trixie; urgency=medium

  * Fix CVE-2025-4575.

 -- Maintainer <m@example.invalid>  Mon, 01 Sep 2026 10:00:00 +0000

openssl (3.5.1-1) unstable; urgency=low

  * New upstream release.

 -- Maintainer <m@example.invalid>  Mon, 01 Jul 2026 10:00:00 +0000
`;

test('changelog entries between two versions, in Debian order, with their CVEs', () => {
  const entries = parseChangelog(text);
  assert.deepEqual(entries.map((e) => [e.version, e.distribution, e.urgency]), [
    ['3.5.4-1~deb13u1', 'trixie-security', 'medium'],
    ['3.5.1-1+deb13u1', 'trixie', 'medium'],
    ['3.5.1-1', 'unstable', 'low'],
  ]);
  assert.deepEqual(entries[0]!.cves, ['CVE-2025-9230', 'CVE-2025-9231']);
  assert.deepEqual(entriesBetween(entries, '3.5.1-1', '3.5.4-1~deb13u1').map((e) => e.version), ['3.5.4-1~deb13u1', '3.5.1-1+deb13u1']);
  assert.deepEqual(entriesBetween(entries, '3.5.1-1+deb13u1', '3.5.1-1+deb13u1'), []);
  assert.deepEqual(cvesIn('CVE-2024-123 is too short; CVE-2024-12345 is not'), ['CVE-2024-12345']);
});
