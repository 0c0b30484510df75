// The HTML report every build writes (out/report.html), end to end: a fixture project built by
// the compiled CLI on a signed loopback repository (a web server with a setuid helper, libraries
// the trim keeps part of, a VM with a synthetic kernel), then rendered in Debian's headless
// Chromium. The DOM Chromium builds is checked against build.json, manifest.json and the SBOM;
// the file is scanned for anything that names a place outside it, and loaded with the network
// cut off; a second build in another directory gives the same bytes. A screenshot is kept.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KERNEL, kernelRecipe, vmStandIns } from '../support/vm/packages.js';
import type { DebRecipe } from '../fixtures/debs.js';
import { runProgram, startHarness, trixieRepo, type Harness } from '../cli/harness.js';

const DEP5 = 'Format: https://packaging-manuals.example/copyright-format/1.0/\nUpstream-Name: x\n\n';

/** Content of a given size, so the treemap has something to weigh. */
const blob = (n: number, seed: string) => Buffer.alloc(n, seed);
const unit = '[Unit]\nDescription=x\n';

const packages: DebRecipe[] = [
  {
    name: 'webd',
    version: '1.26.3-3+deb13u1',
    depends: 'libweb (>= 2), libbase',
    files: {
      '/usr/sbin/webd': { content: Buffer.concat([Buffer.from('#!/bin/sh\necho webd\n'), blob(180_000, '#')]), mode: 0o755 },
      '/usr/lib/webd/webd-suexec': { content: blob(40_000, 's'), mode: 0o4755 },
      '/etc/webd/webd.conf': 'port 8080\n',
      '/usr/share/webd/html/index.html': blob(6_000, 'h'),
      '/usr/share/webd/html/50x.html': blob(3_000, 'h'),
      '/usr/share/man/man8/webd.8.gz': blob(30_000, 'm'),
      '/usr/share/doc/webd/changelog.gz': blob(50_000, 'c'),
      '/usr/share/doc/webd/copyright': `${DEP5}Files: *\nCopyright: 2002 Someone\nLicense: BSD-2-clause\n`,
    },
  },
  {
    name: 'libweb',
    version: '2.0-1+b1',
    depends: 'libbase',
    files: {
      '/usr/lib/x86_64-linux-gnu/libweb.so.2': blob(90_000, 'w'),
      '/usr/share/libweb/unused.dat': blob(120_000, 'u'),
      '/usr/share/doc/libweb/copyright': `${DEP5}Files: *\nCopyright: 2020 W\nLicense: Expat\n`,
    },
  },
  {
    name: 'libbase',
    version: '1:3.1-2',
    files: {
      '/usr/lib/x86_64-linux-gnu/libbase.so.3': blob(60_000, 'b'),
      '/usr/share/locale/de/LC_MESSAGES/libbase.mo': blob(20_000, 'l'),
      '/usr/share/doc/libbase/copyright': 'This is free software under whatever terms you like.\n',
    },
  },
  {
    name: 'systemd',
    version: '257-1',
    files: {
      '/usr/lib/systemd/systemd': { content: blob(100_000, 'y'), mode: 0o755 },
      '/usr/lib/systemd/system/multi-user.target': unit,
      '/usr/lib/systemd/system/getty.target': unit,
      '/usr/lib/systemd/system/ldconfig.service': unit,
      '/usr/lib/systemd/system/systemd-logind.service': unit,
      '/usr/lib/systemd/system/systemd-modules-load.service': unit,
    },
  },
  ...vmStandIns(),
  kernelRecipe(),
];

const yaml = `name: webd
version: "1.2"
debian:
  suites: [trixie, trixie-security]
workload:
  packages: [webd]
  command: [/usr/sbin/webd]
  files:
    - { path: /srv/index.html, content: "hello\\n" }
  ports: [8080, 53/udp]
trim:
  keep: [/usr/lib/x86_64-linux-gnu/libweb.so.2, /usr/lib/x86_64-linux-gnu/libbase.so.3]
outputs: [tar, vm]
`;

const CHROMIUM = ['chromium', 'chromium-browser'].map((n) => ['/usr/bin', '/usr/local/bin'].map((d) => join(d, n))).flat().find((p) => existsSync(p));
const NO_CHROMIUM = CHROMIUM ? false : 'headless Chromium is not installed (apt-get install -y chromium)';

/** Chromium, headless, with nothing of its own going to the network; `wrap` runs it inside another command (unshare). */
async function chromium(args: string[], profile: string, wrap: string[] = []): Promise<string> {
  const argv = [
    ...wrap,
    CHROMIUM!,
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    `--user-data-dir=${profile}`,
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--disable-extensions',
    '--disable-features=NetworkTimeServiceQuerying,MediaRouter,OptimizationHints',
    '--disable-client-side-phishing-detection',
    '--disable-domain-reliability',
    '--no-pings',
    ...args,
  ];
  const r = await runProgram(argv, { env: { ...process.env, HOME: profile } });
  assert.equal(r.code, 0, `chromium failed: ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

/**
 * A proxy that answers nothing and notes the host of each request the browser sends it (the
 * request line: `GET http://host/…` or `CONNECT host:443`).
 */
async function recordingProxy(): Promise<{ server: Server; port: number; hosts: string[] }> {
  const hosts: string[] = [];
  const server = createServer((socket) => {
    socket.once('data', (d) => {
      const target = d.toString('latin1').split(' ')[1] ?? '';
      hosts.push(target.replace(/^[a-z]+:\/\//, '').replace(/[:/].*$/, ''));
      socket.destroy();
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, hosts };
}

/**
 * Chromium's own services (its updater, network time, accounts), which it calls whatever page it
 * shows and however many --disable-… flags it is given: not the page's requests.
 */
const BROWSER_OWN = /(^|\.)(google\.com|googleapis\.com|gstatic\.com)$/;

/** Whether `unshare -rn` can give a process a network namespace with no interface but loopback. */
function canUnshare(): boolean {
  try {
    execFileSync('unshare', ['-rn', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const attr = (tag: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];
const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

describe('the HTML report of a build', () => {
  let h: Harness;
  let project: string;
  let html: string;
  let record: any;
  let manifest: any;
  let spdx: any;
  let artefacts: string;
  let dom = '';

  before(async () => {
    h = await startHarness(trixieRepo(packages, []));
    project = join(h.work, 'webd');
    await mkdir(project);
    await writeFile(join(project, 'jeos.yaml'), yaml);
    const r = await h.jeos('build', project, '--quiet');
    assert.equal(r.code, 0, r.stderr);
    html = await readFile(join(project, 'out/report.html'), 'utf8');
    record = JSON.parse(await readFile(join(project, 'out/build.json'), 'utf8'));
    manifest = JSON.parse(await readFile(join(project, 'out/manifest.json'), 'utf8'));
    spdx = JSON.parse(await readFile(join(project, 'out/sbom.spdx.json'), 'utf8'));
    // Kept after the test: the screenshot is an artefact to look at.
    artefacts = await mkdtemp(join(tmpdir(), 'jeos-report-'));
    await writeFile(join(artefacts, 'report.html'), html);
    if (CHROMIUM) dom = await chromium(['--dump-dom', `file://${join(artefacts, 'report.html')}`], join(artefacts, 'profile'));
  });
  after(async () => {
    await h?.close();
    if (artefacts) await rm(join(artefacts, 'profile'), { recursive: true, force: true });
  });

  test('build.json lists report.html among its records, with its digest', () => {
    const entry = record.records.find((f: { path: string }) => f.path === 'report.html');
    assert.ok(entry, JSON.stringify(record.records));
    assert.equal(entry.sha256, sha(html));
    assert.equal(entry.size, Buffer.byteLength(html));
  });

  test('it names nothing outside itself: no URL, no script, nothing to load', () => {
    assert.doesNotMatch(html, /https?:/i, 'no http: or https: anywhere, links included');
    assert.doesNotMatch(html, /<(script|link|img|iframe|object|embed|base|audio|video|source)\b/i, 'no element that loads something');
    assert.doesNotMatch(html, /@import|url\(/i, 'no stylesheet import or url() in the CSS');
    for (const m of html.matchAll(/\b(src|href|xlink:href|action|srcset|poster|data)\s*=\s*"([^"]*)"/gi)) {
      assert.equal(m[1]!.toLowerCase(), 'href', `only in-page links: ${m[0]}`);
      assert.match(m[2]!, /^#[A-Za-z0-9_.-]+$/, `a link stays on the page: ${m[0]}`);
      assert.ok(html.includes(`id="${m[2]!.slice(1)}"`), `the link's target is on the page: ${m[0]}`);
    }
    assert.doesNotMatch(html, /(src|href)\s*=\s*["']?\/\//i, 'no scheme-relative //host');
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/, 'the browser is told to load nothing');
  });

  test('two builds of the same project, in another directory, give the same bytes', async () => {
    const again = join(h.work, 'webd-again');
    await cp(project, again, { recursive: true, filter: (src) => !src.includes('/out') });
    const r = await h.jeos('build', again, '--quiet');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(await readFile(join(again, 'out/report.html'))), sha(html));
  });

  test('Chromium renders a treemap with one rectangle per file of each tree, and per dropped file', { skip: NO_CHROMIUM }, async () => {
    const svgs = [...dom.matchAll(/<svg class="treemap"[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    // The image's kept files, its dropped packages, the VM's kept files, its dropped packages.
    assert.equal(svgs.length, 4, 'two treemaps per tree');
    for (const [tree, svg] of [['image', svgs[0]!], ['vm', svgs[2]!]] as const) {
      const files = manifest.trees[tree].filter((e: { type: string }) => e.type === 'file').map((e: { path: string }) => e.path).sort();
      const rects = [...svg.matchAll(/<rect [^>]*class="f"[^>]*><title>([^<]*)<\/title><\/rect>/g)].map((m) => unescape(m[1]!).replace(/ \(.*$/, ''));
      assert.deepEqual(rects.sort(), files, `${tree}: one rect per regular file of manifest.json, titled by its path`);
      // The rectangles are laid out inside the drawing, none negative; the big files have an area.
      for (const m of svg.matchAll(/<rect ([^>]*)>/g)) {
        const [x, y, w, hgt] = ['x', 'y', 'width', 'height'].map((a) => Number(attr(m[1]!, a)));
        assert.ok(x! >= 0 && y! >= 0 && w! >= 0 && hgt! >= 0 && x! + w! <= 1000.1, m[0]);
      }
    }
    const webd = /<rect ([^>]*)class="f"[^>]*><title>\/usr\/sbin\/webd \(webd\)/.exec(svgs[0]!)!;
    assert.ok(Number(attr(webd[1]!, 'width')) * Number(attr(webd[1]!, 'height')) > 10_000, 'the biggest file is drawn big');
    // What the trim dropped: one box per dropped file, sized by its bytes, under its package, with trim.json's sizes.
    const trim = JSON.parse(await readFile(join(project, 'out/trim.json'), 'utf8'));
    const sizes: Record<string, number> = trim.image.droppedSizes;
    const expected = Object.entries(trim.image.dropped as Record<string, string[]>)
      .flatMap(([pkg, paths]) => paths.filter((p) => (sizes[p] ?? 0) > 0).map((p) => `${p} (${pkg})`))
      .sort();
    assert.ok(expected.length > 0, 'the fixture drops files');
    const boxes = [...svgs[1]!.matchAll(/<rect [^>]*class="x"[^>]*><title>dropped ([^<]*?): [^<]*<\/title>/g)].map((m) => unescape(m[1]!));
    assert.deepEqual(boxes.sort(), expected);
    const dropped = record.image.trim.packages.filter((p: { droppedBytes: number }) => p.droppedBytes > 0);
    for (const p of dropped) assert.match(svgs[1]!, new RegExp(`<title>${p.name} lost `), `${p.name}'s box is named`);
    // The same sizes in the trim section's list of the largest dropped files.
    const biggest = Object.entries(sizes).sort(([, a], [, b]) => b - a)[0]!;
    const literal = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(dom, new RegExp(`<table class="dropped-image">[\\s\\S]*?<code>${literal(biggest[0])}</code></td><td>[^<]*</td><td>${biggest[1].toLocaleString('en-US')}`));
  });

  test('every package is listed with its version, licence and why it is there', { skip: NO_CHROMIUM }, () => {
    const table = /<table class="packages">[\s\S]*?<\/table>/.exec(dom)![0];
    const rows = [...table.matchAll(/<tr><td><span id="pkg-[^"]*" class="pkg">([^<]*)<\/span><\/td><td><code>([^<]*)<\/code><\/td><td>[^<]*<\/td><td>([\s\S]*?)<\/td><td>[\s\S]*?<\/td><td>([\s\S]*?)<\/td><\/tr>/g)];
    const listed = new Map(rows.map((m) => [m[1]!, { version: unescape(m[2]!), licence: m[3]!, why: m[4]! }]));
    assert.ok(record.packages.length >= 3);
    for (const p of record.packages) assert.equal(listed.get(p.name)?.version, p.version, `${p.name} ${p.version} is listed`);
    for (const name of ['systemd', KERNEL]) assert.ok(listed.has(name), `the VM's ${name} too`);
    // Licences as the SBOM declares them.
    for (const p of spdx.packages.filter((x: { SPDXID: string }) => x.SPDXID.startsWith('SPDXRef-Package-'))) {
      const text = unescape(listed.get(p.name)!.licence.replace(/<[^>]*>/g, '\n'));
      assert.ok(text.split('\n').includes(p.licenseDeclared), `${p.name}: ${p.licenseDeclared} in ${text}`);
    }
    assert.match(listed.get('webd')!.licence, /BSD-2-Clause/);
    assert.match(listed.get('webd')!.why, /asked for/);
    assert.match(listed.get('libbase')!.why, /href="#pkg-libweb"/, 'libbase is there for libweb, linked to its row');
  });

  test('the trim totals are the ones build.json gives', { skip: NO_CHROMIUM }, () => {
    const table = /<table class="totals">[\s\S]*?<\/table>/.exec(dom)![0];
    const rows = [...table.matchAll(/<tr><td>([^<]*)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><\/tr>/g)];
    assert.equal(rows.length, 2);
    for (const [i, tree] of (['image', 'vm'] as const).entries()) {
      const t = record[tree].trim;
      const cells = rows[i]!.slice(2, 5).map((c) => /^([\d,]+) files, ([\d,]+) bytes/.exec(c)!.slice(1).map((n) => Number(n.replace(/,/g, ''))));
      assert.deepEqual(cells, [[t.before.files, t.before.bytes], [t.kept.files, t.kept.bytes], [t.dropped.files, t.dropped.bytes]], tree);
    }
  });

  test('the security posture: setuid files, declared ports, the VM\'s units', { skip: NO_CHROMIUM }, () => {
    assert.deepEqual(record.image.setuid, [{ path: '/usr/lib/webd/webd-suexec', mode: '4755', package: 'webd' }]);
    const setuid = /<table class="setuid">[\s\S]*?<\/table>/.exec(dom)![0];
    assert.match(setuid, /<code>\/usr\/lib\/webd\/webd-suexec<\/code><\/td><td><code>4755<\/code><\/td><td>webd</);
    assert.match(dom, /<ul id="ports"><li><code>8080<\/code><\/li><li><code>53\/udp<\/code><\/li><\/ul>/);
    const enabled = [.../<span id="units-enabled">([\s\S]*?)<\/span>/.exec(dom)![1]!.matchAll(/<code>([^<]*)<\/code>/g)].map((m) => m[1]);
    assert.deepEqual(enabled, record.vm.system.enabled);
    for (const m of record.vm.system.masked) assert.ok(dom.includes(`<code>${m.unit}</code>`), m.unit);
    // systemd's exposure score of the VM's workload unit; not applicable to the container image.
    assert.match(dom, /<p id="exposure-image">The container image: not applicable\./);
    const score = /<p id="exposure-vm">The VM's <code>webd\.service<\/code>: <b class="score">(\d+\.\d) (\S+)<\/b>/.exec(dom);
    if (spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0) {
      assert.ok(score, 'the VM\'s workload unit has a score');
      assert.ok(Number(score[1]) > 0 && Number(score[1]) <= 10, score[0]);
      assert.match(dom, /<table class="exposure">[\s\S]*?<code>[A-Za-z]+=/, 'the settings that weigh most are listed');
    } else assert.match(dom, /<p id="exposure-vm">[^<]*<code>webd\.service<\/code>: not measured: systemd-analyze is not installed/);
  });

  test('the SBOM summary counts what the SPDX document holds', { skip: NO_CHROMIUM }, () => {
    const section = /<section id="sbom">[\s\S]*?<\/section>/.exec(dom)![0];
    const pkgs = spdx.packages.filter((p: { SPDXID: string }) => p.SPDXID.startsWith('SPDXRef-Package-'));
    assert.match(section, new RegExp(`<b>${pkgs.length}</b> packages`));
    const files = (tree: string) => spdx.files.filter((f: { SPDXID: string }) => f.SPDXID.startsWith(`SPDXRef-File-${tree}-`)).length;
    assert.match(section, new RegExp(`<b>${files('image')} in the container image, ${files('vm')} in the VM</b>`));
    const licences = new Set(pkgs.map((p: { licenseDeclared: string }) => p.licenseDeclared));
    assert.match(section, new RegExp(`<b>${licences.size}</b> distinct declared licences`));
  });

  test('each kept path has its chain, as jeos why prints it, one collapsed block per package', { skip: NO_CHROMIUM }, async () => {
    const trim = JSON.parse(await readFile(join(project, 'out/trim.json'), 'utf8'));
    const section = /<section id="why">[\s\S]*?<\/section>/.exec(dom)![0];
    const blocks = [...section.matchAll(/<details id="why-(image|vm)-[^"]*">/g)];
    assert.ok(blocks.length >= 4 && !/<details[^>]* open/.test(section), 'collapsed, one per package');
    for (const tree of ['image', 'vm']) {
      const items = [...section.matchAll(new RegExp(`<details id="why-${tree}-[^"]*">[\\s\\S]*?</details>`, 'g'))].flatMap((b) => [...b[0].matchAll(/<li><code>([^<]*)<\/code>/g)].map((m) => m[1]));
      assert.deepEqual(items.sort(), Object.keys(trim[tree].kept).sort(), `${tree}: every kept path`);
    }
    const why = await h.jeos('why', '/usr/lib/x86_64-linux-gnu/libbase.so.3', project);
    assert.equal(why.code, 0, why.stderr);
    assert.match(section, /<li><code>\/usr\/lib\/x86_64-linux-gnu\/libbase\.so\.3<\/code>: matches trim\.keep \/usr\/lib\/x86_64-linux-gnu\/libbase\.so\.3<\/li>/);
    assert.ok(why.stdout.includes('matches trim.keep /usr/lib/x86_64-linux-gnu/libbase.so.3'), 'the same words as jeos why');
  });

  test('with the network cut off, Chromium still renders all of it and asks nothing of the network', { skip: NO_CHROMIUM }, async () => {
    const page = join(artefacts, 'report.html');
    // Every request the browser makes goes to a proxy that answers nothing and notes the host.
    const proxy = await recordingProxy();
    try {
      const args = [`--proxy-server=http://127.0.0.1:${proxy.port}`, '--proxy-bypass-list=<-loopback>', '--dump-dom'];
      const pageHosts = async (file: string) => {
        const from = proxy.hosts.length;
        const out = await chromium([...args, `file://${file}`], join(artefacts, 'profile'));
        await new Promise((resolve) => setTimeout(resolve, 200));
        return { out, hosts: proxy.hosts.slice(from).filter((host) => !BROWSER_OWN.test(host)) };
      };
      // First, that the check can fail: a page with one remote image is seen asking for it.
      const control = join(artefacts, 'control.html');
      await writeFile(control, '<!DOCTYPE html><p>x</p><img src="http://example.invalid/x.png">');
      assert.deepEqual((await pageHosts(control)).hosts, ['example.invalid'], 'the control page reached the proxy');
      await rm(control);
      const rendered = await pageHosts(page);
      assert.deepEqual(rendered.hosts, [], 'the report asked nothing of the network');
      assert.equal(rendered.out, dom, 'and rendered the same DOM');
    } finally {
      proxy.server.close();
    }
    // And in a network namespace with no network at all, where the system allows one.
    if (canUnshare()) {
      const offline = await chromium(['--dump-dom', `file://${page}`], join(artefacts, 'profile'), ['unshare', '-rn']);
      assert.equal(offline, dom, 'the same DOM with no network');
    }
  });

  test('a screenshot of the report is kept as an artefact', { skip: NO_CHROMIUM }, async (t) => {
    const png = join(artefacts, 'report.png');
    await chromium([`--screenshot=${png}`, '--window-size=1280,2000', '--hide-scrollbars', `file://${join(artefacts, 'report.html')}`], join(artefacts, 'profile'));
    const data = await readFile(png);
    assert.equal(data.subarray(1, 4).toString('latin1'), 'PNG');
    assert.ok((await stat(png)).size > 20_000, 'a page with something on it');
    t.diagnostic(`screenshot: ${png} (report: ${Buffer.byteLength(html)} bytes)`);
    console.log(`# report screenshot: ${png}; report.html ${Buffer.byteLength(html)} bytes`);
  });
});
