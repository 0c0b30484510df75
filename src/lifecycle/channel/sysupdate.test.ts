// The image side's files as pure functions: the transfer files agree with the channel's names
// and the disk's entry names, the entry written last; the channel's entry names where the
// kernel transfer puts the files and keeps the rest of the disk's entry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entryText } from '../../outputs/disk/index.js';
import { channelEntryText, sysupdateFiles } from './sysupdate.js';
import { versionFiles } from './layout.js';

test('transfer files: kernel and initrd before the entry, patterns matching the channel\'s names, +3 tries, the timer', () => {
  const files = sysupdateFiles({ url: 'http://updates.example.test/web/stable/' });
  const paths = files.map((f) => f.path);
  assert.deepEqual(paths.filter((p) => p.endsWith('.transfer')), [
    '/etc/sysupdate.d/10-jeos-linux.transfer',
    '/etc/sysupdate.d/20-jeos-initrd.transfer',
    '/etc/sysupdate.d/90-jeos-entry.transfer',
  ]);
  const text = (p: string) => files.find((f) => f.path.endsWith(p))!.text;
  assert.match(text('10-jeos-linux.transfer'), /^Path=http:\/\/updates\.example\.test\/web\/stable\/$/m);
  const pattern = /^MatchPattern=(.*)$/m.exec(text('10-jeos-linux.transfer'))![1]!;
  assert.equal(pattern.replace('@v', '1.4'), versionFiles('1.4').linux, 'the source pattern matches the published name');
  const entry = text('90-jeos-entry.transfer');
  assert.match(entry, /^MatchPattern=jeos-@v\+@l-@d\.conf jeos-@v\+@l\.conf jeos-@v\.conf$/m);
  assert.match(entry, /^TriesLeft=3$/m);
  for (const f of files.filter((x) => x.path.endsWith('.transfer'))) assert.match(f.text, /^ProtectVersion=%A$/m);
  assert.match(text('jeos-update.timer'), /^OnBootSec=1min$/m);
  assert.match(text('jeos-update.timer'), /^OnUnitActiveSec=1h$/m);
  assert.match(text('jeos-update.service'), /^After=.*\bboot-complete\.target\b/m);
  assert.doesNotMatch(text('jeos-update.service'), /^Requisite=/m, 'a Requisite= that fails kills the timer for the boot');
  assert.match(text('jeos-update.timer'), /^AccuracySec=1s$/m);
  assert.doesNotMatch(text('jeos-update.timer'), /^Persistent=/m, 'a stamp from an earlier boot stops OnBootSec= and so the timer');
});

test('the channel\'s entry: the disk\'s text with linux and initrd where sysupdate puts them', () => {
  const disk = entryText({ name: 'web', version: '1.4', efiArch: 'x64', cmdline: 'console=ttyS0 jeos.version=1.4' });
  const channel = channelEntryText(disk, '1.4');
  assert.match(channel, /^linux \/jeos\/jeos-1\.4\.linux$/m);
  assert.match(channel, /^initrd \/jeos\/jeos-1\.4\.initrd$/m);
  assert.equal(channel.replace(/^(linux|initrd) .*$/gm, ''), disk.replace(/^(linux|initrd) .*$/gm, ''));
});
