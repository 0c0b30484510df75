import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImageTree } from '../../tree/index.js';
import { planSysctl } from './sysctl.js';

function tree(files: Record<string, string | { symlink: string }>): ImageTree {
  const t = new ImageTree();
  for (const [path, content] of Object.entries(files)) {
    if (typeof content === 'string') t.writeFile(path, content);
    else t.symlink(path, content.symlink);
  }
  return t;
}

test('settings are read as systemd-sysctl reads them: by file name, /etc hiding /usr/lib, later assignments winning', () => {
  const plan = planSysctl(
    tree({
      'usr/lib/sysctl.d/50-pid-max.conf': '# comment\n; another\nkernel.pid_max = 4194304\n',
      'usr/lib/sysctl.d/10-coredump-debian.conf': 'kernel.core_pattern=core\n',
      'usr/lib/sysctl.d/60-site.conf': 'vm.swappiness = 1\n',
      'etc/sysctl.d/60-site.conf': 'vm.swappiness = 10\n-net/core/somaxconn = 1024\n',
      'etc/sysctl.d/70-last.conf': 'kernel.pid_max = 65536\nnet.ipv4.conf.default.rp_filter=2\n',
      'usr/lib/sysctl.d/README': 'not a .conf file = ignored\n',
    }),
    'busybox',
  );
  assert.equal(plan.needsService, undefined);
  assert.deepEqual(plan.args, [
    'sysctl.kernel.core_pattern=core',
    'sysctl.vm.swappiness=10',
    'sysctl.net.core.somaxconn=1024',
    'sysctl.kernel.pid_max=65536',
    'sysctl.net.ipv4.conf.default.rp_filter=2',
  ]);
  assert.equal(plan.settings.find((s) => s.key === 'kernel.pid_max')?.file, '/etc/sysctl.d/70-last.conf');
});

test('a file masked by /dev/null or an empty file in /etc is not read; no settings at all is an empty list', () => {
  const masked = planSysctl(
    tree({
      'usr/lib/sysctl.d/50-a.conf': 'kernel.sysrq = 16\n',
      'etc/sysctl.d/50-a.conf': { symlink: '/dev/null' },
      'usr/lib/sysctl.d/50-b.conf': 'kernel.kptr_restrict = 1\n',
      'etc/sysctl.d/50-b.conf': '',
    }),
    'systemd',
  );
  assert.deepEqual(masked.args, []);
  assert.deepEqual(planSysctl(new ImageTree(), 'systemd').args, []);
});

test('values with spaces are quoted for the kernel; keys systemd writes as it starts stay with systemd-sysctl under systemd', () => {
  const plan = planSysctl(tree({ 'usr/lib/sysctl.d/50-core.conf': 'kernel.core_pattern = |/usr/lib/systemd/systemd-coredump %P %u %g\n' }), 'busybox');
  assert.deepEqual(plan.args, ['sysctl.kernel.core_pattern="|/usr/lib/systemd/systemd-coredump %P %u %g"']);
  for (const key of ['kernel.core_pattern', 'fs.file-max', 'fs.nr_open', 'net.unix.max_dgram_qlen']) {
    const underSystemd = planSysctl(tree({ 'usr/lib/sysctl.d/50-x.conf': `${key} = 1\n` }), 'systemd');
    assert.equal(underSystemd.args, undefined, key);
    assert.match(underSystemd.needsService ?? '', /systemd writes this key as it starts/);
  }
});

test('what the kernel cannot apply before /init keeps systemd-sysctl, and the reason names the line', () => {
  const cases: Array<[string, RegExp]> = [
    ['net.ipv4.conf.*.rp_filter = 2', /a pattern/],
    ['-net.ipv4.conf.all.promote_secondaries = 1\n-net.ipv4.conf.*.accept_source_route = 0\n-net.ipv4.conf.all.accept_source_route', /a pattern/],
    ['net.ipv4.conf.eth0.rp_filter = 1', /a module or an interface/],
    ['net/ipv4/conf/eth0.1/rp_filter = 1', /component with a dot/],
    ['net.netfilter.nf_conntrack_max = 262144', /a module or an interface/],
    ['net.bridge.bridge-nf-call-iptables = 0', /a module or an interface/],
    ['net.core.default_qdisc = fq_codel', /a module or an interface/],
    ['net.ipv4.tcp_congestion_control = bbr', /a module or an interface/],
    ['kernel.domainname = "x"', /double quote/],
    ['kernel.domainname =', /empty/],
  ];
  for (const [line, why] of cases) {
    const plan = planSysctl(tree({ 'usr/lib/sysctl.d/10-ok.conf': 'kernel.sysrq = 16\n', 'etc/sysctl.d/90-x.conf': `${line}\n` }), 'busybox');
    assert.equal(plan.args, undefined, line);
    assert.match(plan.needsService ?? '', why, line);
    assert.match(plan.needsService ?? '', /^\/etc\/sysctl\.d\/90-x\.conf: /, line);
  }
});
