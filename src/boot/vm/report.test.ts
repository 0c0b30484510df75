import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseReportBody, ReportReader } from './report.js';

const enc = (s: string) => Buffer.from(s, 'utf8');

describe('report channel', () => {
  test('failed units are the first field of each line; blank lines and bullets are ignored', () => {
    assert.deepEqual(
      parseReportBody([
        'nginx.service loaded failed failed A high performance web server\r',
        '',
        '● systemd-networkd.service loaded failed failed Network Configuration',
        'nginx.service loaded failed failed again',
      ]),
      ['nginx.service', 'systemd-networkd.service'],
    );
  });

  test('a report with \\r\\n line ends, split anywhere, with noise around it', () => {
    const text = 'boot noise\r\nJEOS_REPORT_BEGIN\r\nfoo.service loaded failed failed Foo\r\nJEOS_REPORT_END\r\ntrailing';
    for (let cut = 1; cut < text.length; cut += 7) {
      const r = new ReportReader();
      const first = r.feed(enc(text.slice(0, cut)));
      const second = r.feed(enc(text.slice(cut)));
      assert.deepEqual(first ?? second, { failedUnits: ['foo.service'] }, `cut at ${cut}`);
      assert.equal(r.count, 1);
    }
  });

  test('an empty report means no failed units; nothing before BEGIN counts', () => {
    const r = new ReportReader();
    assert.equal(r.feed(enc('JEOS_REPORT_END\nx.service loaded failed failed\n')), undefined);
    assert.deepEqual(r.feed(enc('JEOS_REPORT_BEGIN\nJEOS_REPORT_END\n')), { failedUnits: [] });
  });

  test('a later report replaces the earlier one', () => {
    const r = new ReportReader();
    r.feed(enc('JEOS_REPORT_BEGIN\nJEOS_REPORT_END\n'));
    assert.deepEqual(r.feed(enc('JEOS_REPORT_BEGIN\nnginx.service loaded failed failed nginx\nJEOS_REPORT_END\n')), { failedUnits: ['nginx.service'] });
    assert.deepEqual(r.report, { failedUnits: ['nginx.service'] });
    assert.equal(r.count, 2);
  });
});
