// The SBOM every build writes (out/sbom.spdx.json, out/sbom.cdx.json), end to end on the
// compiled CLI against a signed loopback repository: an nginx-like web server (a trimmed
// package with its man page and unused data, libraries with machine-readable, free-text and
// no copyright files, binNMU and differently named source packages) built as a container
// image and a VM with a synthetic kernel. The SPDX document is checked against the official
// SPDX 2.3 JSON schema and the NTIA minimum elements, the CycloneDX one with the CycloneDX
// library's strict validator, both against rootfs.tar and the image's own dpkg status.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { KERNEL, kernelRecipe, vmStandIns } from '../support/vm/packages.js';
import type { DebRecipe } from '../fixtures/debs.js';
import { cli, runProgram, startHarness, trixieRepo, type Harness } from '../cli/harness.js';

const dep5 = (...paras: string[]) => ['Format: https://packaging-manuals.example/copyright-format/1.0/\nUpstream-Name: x\n', ...paras].join('\n');

const unit = '[Unit]\nDescription=x\n';
const packages: DebRecipe[] = [
  {
    name: 'webd',
    version: '1.26.3-3+deb13u1',
    depends: 'libweb (>= 2), libbase',
    extraControl: { Source: 'webd-server' },
    files: {
      '/usr/sbin/webd': { content: '#!/bin/sh\necho webd\n', mode: 0o755 },
      '/etc/webd/webd.conf': 'port 8080\n',
      '/usr/share/webd/unused.html': 'not reached\n',
      '/usr/share/man/man8/webd.8.gz': 'not really gzip\n',
      '/usr/share/doc/webd/copyright': dep5(
        'Files: *\nCopyright: 2002 Someone\nLicense: BSD-2-clause\n',
        'Files: src/http/*\nCopyright: 2010 Other\nLicense: GPL-2+ with OpenSSL exception\n',
        'License: GPL-2+ with OpenSSL exception\n The GPL 2 or later, and linking with OpenSSL allowed.\n',
      ),
    },
  },
  {
    name: 'libweb',
    version: '2.0-1+b1',
    depends: 'libbase',
    multiArch: 'same',
    extraControl: { Source: 'web (2.0-1)' },
    files: {
      '/usr/lib/x86_64-linux-gnu/libweb.so.2': 'ELF-ish\n',
      '/usr/share/libweb/unused.txt': 'not reached\n',
      '/usr/share/doc/libweb/copyright': dep5(
        'Files: *\nCopyright: 2020 W\nLicense: Expat or GPL-2+, and public-domain\n',
        'License: public-domain\n Nobody owns this.\n',
      ),
    },
  },
  {
    name: 'libbase',
    version: '1:3.1-2',
    files: {
      '/usr/lib/x86_64-linux-gnu/libbase.so.3': 'base\n',
      '/usr/share/doc/libbase/copyright': 'This is free software under whatever terms you like.\n',
    },
  },
  {
    name: 'systemd',
    version: '257-1',
    files: {
      '/usr/lib/systemd/systemd': { content: '\x7fELF stand-in\n', mode: 0o755 },
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
debian:
  suites: [trixie, trixie-security]
workload:
  packages: [webd]
  command: [/usr/sbin/webd]
  files:
    - { path: /srv/index.html, content: "hello\\n" }
  ports: [8080]
trim:
  keep: [/usr/lib/x86_64-linux-gnu/libweb.so.2, /usr/lib/x86_64-linux-gnu/libbase.so.3]
outputs: [tar, vm]
`;

/** Regular files of a tar archive (ustar, PAX and GNU long names), read here rather than by jeos's own code. */
function tarFiles(tar: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a: number, b: number) => h.subarray(a, b).toString('utf8').replace(/\0.*$/s, '');
    const type = String.fromCharCode(h[156]!);
    const size = pax.size ? Number(pax.size) : parseInt(str(124, 136).trim() || '0', 8);
    const body = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      pax = {};
      for (let rest = body.toString('utf8'); rest.length; ) {
        const len = Number(rest.slice(0, rest.indexOf(' ')));
        const [k, ...v] = rest.slice(rest.indexOf(' ') + 1, len - 1).split('=');
        pax[k!] = v.join('=');
        rest = rest.slice(len);
      }
      continue;
    }
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    const name = pax.path ?? longName ?? (str(345, 500) ? `${str(345, 500)}/${str(0, 100)}` : str(0, 100));
    pax = {};
    longName = undefined;
    if (type === '0' || type === '\0') out.set(`/${name.replace(/^\.?\//, '')}`, Buffer.from(body));
  }
  return out;
}

const hash = (algo: string, data: Buffer) => createHash(algo).update(data).digest('hex');

interface SpdxDoc {
  spdxVersion: string;
  SPDXID: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[] };
  packages: Array<Record<string, any>>;
  files: Array<{ SPDXID: string; fileName: string; checksums: Array<{ algorithm: string; checksumValue: string }> }>;
  relationships: Array<{ spdxElementId: string; relationshipType: string; relatedSpdxElement: string }>;
  hasExtractedLicensingInfos?: Array<{ licenseId: string; extractedText: string }>;
}

describe('the SBOM of a build', () => {
  let h: Harness;
  let project: string;
  let spdxText: string;
  let cdxText: string;
  let spdx: SpdxDoc;
  let cdx: any;

  before(async () => {
    h = await startHarness(trixieRepo(packages, []));
    project = join(h.work, 'webd');
    await mkdir(project);
    await writeFile(join(project, 'jeos.yaml'), yaml);
    const r = await h.jeos('build', project, '--quiet');
    assert.equal(r.code, 0, r.stderr);
    spdxText = await readFile(join(project, 'out/sbom.spdx.json'), 'utf8');
    cdxText = await readFile(join(project, 'out/sbom.cdx.json'), 'utf8');
    spdx = JSON.parse(spdxText) as SpdxDoc;
    cdx = JSON.parse(cdxText);
  });
  after(async () => {
    await h?.close();
  });

  const pkg = (name: string) => spdx.packages.find((p) => p.name === name && p.SPDXID.startsWith('SPDXRef-Package-'))!;
  const related = (type: string, from: string) => spdx.relationships.filter((r) => r.relationshipType === type && r.spdxElementId === from).map((r) => r.relatedSpdxElement);

  test('the SPDX document is valid SPDX 2.3 by the official JSON schema', async () => {
    const schema = JSON.parse(await readFile(new URL('../fixtures/schemas/spdx-2.3.schema.json', import.meta.url), 'utf8'));
    const ajv = new Ajv.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    assert.ok(validate(spdx), JSON.stringify(validate.errors?.slice(0, 5)));
    // What the schema leaves out: every identifier unique, every relationship between existing elements.
    const ids = [spdx.SPDXID, ...spdx.packages.map((p) => p.SPDXID), ...spdx.files.map((f) => f.SPDXID)];
    assert.equal(new Set(ids).size, ids.length, 'SPDX identifiers are unique');
    for (const r of spdx.relationships) assert.ok(ids.includes(r.spdxElementId) && ids.includes(r.relatedSpdxElement), JSON.stringify(r));
    for (const ref of spdx.hasExtractedLicensingInfos ?? []) assert.match(ref.licenseId, /^LicenseRef-[A-Za-z0-9.-]+$/);
    // The same document a second time is refused when broken: the check can fail.
    assert.equal(validate({ ...spdx, spdxVersion: undefined }), false);
  });

  test('it meets the NTIA minimum elements: supplier, name, version, unique id, dependencies, author, timestamp', async () => {
    const { sourceDateEpoch } = JSON.parse(await readFile(join(project, 'out/build.json'), 'utf8'));
    assert.equal(spdx.creationInfo.created, new Date(sourceDateEpoch * 1000).toISOString().replace('.000Z', 'Z'), 'timestamp: the build\'s SOURCE_DATE_EPOCH');
    assert.ok(spdx.creationInfo.creators.some((c) => /^Tool: jeos-\d/.test(c)), 'author of the SBOM data');
    const debs = spdx.packages.filter((p) => p.SPDXID.startsWith('SPDXRef-Package-'));
    assert.ok(debs.length >= 5);
    for (const p of debs) {
      assert.equal(p.supplier, 'Organization: Debian', `${p.name}: supplier`);
      assert.ok(p.name && p.versionInfo, `${p.name}: name and version`);
      assert.equal(p.externalRefs.filter((r: any) => r.referenceType === 'purl').length, 1, `${p.name}: one purl (a unique identifier)`);
      assert.ok(
        spdx.relationships.some((r) => r.relationshipType === 'CONTAINS' && r.relatedSpdxElement === p.SPDXID && /^SPDXRef-(image|vm)$/.test(r.spdxElementId)),
        `${p.name}: in a tree`,
      );
    }
    const purls = debs.map((p) => p.externalRefs[0].referenceLocator);
    assert.equal(new Set(purls).size, purls.length, 'each package once');
    // Dependency relationships, from the lock.
    assert.deepEqual(related('DEPENDS_ON', pkg('webd').SPDXID).sort(), [pkg('libbase').SPDXID, pkg('libweb').SPDXID].sort());
    assert.deepEqual(related('DEPENDS_ON', pkg('libweb').SPDXID), [pkg('libbase').SPDXID]);
    assert.deepEqual(related('DESCRIBES', 'SPDXRef-DOCUMENT'), ['SPDXRef-image', 'SPDXRef-vm']);
  });

  test('packages carry their purl, exact version, source package, licence, .deb digest and trim state', async () => {
    const record = JSON.parse(await readFile(join(project, 'out/build.json'), 'utf8'));
    const lock = JSON.parse(await readFile(join(project, 'jeos.lock'), 'utf8'));
    const webd = pkg('webd');
    assert.equal(webd.versionInfo, '1.26.3-3+deb13u1');
    assert.equal(webd.externalRefs[0].referenceLocator, 'pkg:deb/debian/webd@1.26.3-3+deb13u1?arch=amd64&distro=debian-13');
    assert.equal(webd.checksums[0].checksumValue, record.packages.find((p: any) => p.name === 'webd').sha256, 'the .deb\'s SHA-256 from build.json');
    assert.equal(webd.packageFileName, 'webd_1.26.3-3+deb13u1_amd64.deb');
    assert.match(webd.sourceInfo, /source package webd-server 1\.26\.3-3\+deb13u1 \(pkg:deb\/debian\/webd-server@1\.26\.3-3\+deb13u1\?arch=source&distro=debian-13\)/);
    // SPDX has no exception for linking with OpenSSL in general: that licence is a LicenseRef with the file's text.
    assert.equal(webd.licenseDeclared, 'BSD-2-Clause AND LicenseRef-GPL-2-with-OpenSSL-exception');
    assert.match(spdx.hasExtractedLicensingInfos!.find((l) => l.licenseId === 'LicenseRef-GPL-2-with-OpenSSL-exception')!.extractedText, /linking with OpenSSL/);
    assert.match(webd.comment, /image: trimmed \(\d+ files kept, [1-9]\d* dropped\)/, 'the man page was trimmed');
    const libweb = pkg('libweb');
    assert.match(libweb.sourceInfo, /source package web 2\.0-1 /, 'a binNMU names its source version');
    assert.equal(libweb.licenseDeclared, '(MIT OR GPL-2.0-or-later) AND LicenseRef-public-domain');
    assert.equal(spdx.hasExtractedLicensingInfos!.find((l) => l.licenseId === 'LicenseRef-public-domain')!.extractedText, 'Nobody owns this.');
    assert.equal(libweb.externalRefs[0].referenceLocator, 'pkg:deb/debian/libweb@2.0-1+b1?arch=amd64&distro=debian-13');
    assert.match(libweb.comment, /image: trimmed \(\d+ files kept, 1 dropped\)/, 'a Multi-Arch: same package, which the trim names with its architecture');
    assert.match(pkg('libbase').comment, /image: whole/);
    const libbase = pkg('libbase');
    assert.equal(libbase.externalRefs[0].referenceLocator, 'pkg:deb/debian/libbase@1:3.1-2?arch=amd64&distro=debian-13');
    assert.equal(libbase.licenseDeclared, 'NOASSERTION', 'a free-text copyright file is not guessed at');
    assert.match(libbase.licenseComments, /not machine-readable/);
    assert.equal(pkg('libkmod2').licenseDeclared, 'NOASSERTION');
    // libkmod2 ships no copyright file, and nothing in the VM reaches its (fake) library: the trim took all of it.
    assert.match(pkg('libkmod2').licenseComments, /the trim left none of its files, \/usr\/share\/doc\/libkmod2\/copyright included/);
    // The VM's kernel, as a component of the VM only.
    const kernel = pkg(KERNEL);
    assert.equal(kernel.primaryPackagePurpose, 'OPERATING_SYSTEM');
    assert.equal(kernel.checksums[0].checksumValue, lock.kernel.sha256);
    assert.equal(kernel.externalRefs[0].referenceLocator, `pkg:deb/debian/${KERNEL}@6.12.0-9?arch=amd64&distro=debian-13`);
    assert.match(kernel.comment, /vm: trimmed \(\d+ files kept, \d+ dropped\)/, 'the kernel\'s unneeded modules were left out');
    assert.ok(related('CONTAINS', 'SPDXRef-vm').includes(kernel.SPDXID));
    assert.ok(!related('CONTAINS', 'SPDXRef-image').includes(kernel.SPDXID));
    assert.ok(related('CONTAINS', 'SPDXRef-vm').includes(pkg('systemd').SPDXID), 'the VM\'s added packages');
    assert.ok(!related('CONTAINS', 'SPDXRef-image').includes(pkg('systemd').SPDXID));
  });

  test('every regular file of rootfs.tar is in the SBOM with its SHA-256 and SHA-1, and nothing else of the image', async () => {
    const files = tarFiles(await readFile(join(project, 'out/rootfs.tar')));
    assert.ok(files.has('/usr/sbin/webd') && files.has('/var/lib/dpkg/status'));
    const image = new Map(spdx.files.filter((f) => f.SPDXID.startsWith('SPDXRef-File-image-')).map((f) => [f.fileName.slice(1), f]));
    const contained = new Set(related('CONTAINS', 'SPDXRef-image'));
    for (const [path, data] of files) {
      const f = image.get(path);
      assert.ok(f, `${path} is in the SPDX document`);
      assert.ok(contained.has(f.SPDXID), `${path} is contained by the image`);
      const sum = Object.fromEntries(f.checksums.map((c) => [c.algorithm, c.checksumValue]));
      assert.deepEqual(sum, { SHA1: hash('sha1', data), SHA256: hash('sha256', data) }, path);
      const c = cdx.components.find((x: any) => x['bom-ref'] === `file:image:${path}`);
      assert.ok(c, `${path} is in the CycloneDX document`);
      assert.deepEqual(Object.fromEntries(c.hashes.map((x: any) => [x.alg, x.content])), { 'SHA-1': hash('sha1', data), 'SHA-256': hash('sha256', data) });
    }
    assert.equal(image.size, files.size, 'no file the image lacks');
    // A package's file names it; a file of the workload or of jeos says so.
    const webd = spdx.files.find((f) => f.fileName === './usr/sbin/webd' && f.SPDXID.startsWith('SPDXRef-File-image-'))!;
    assert.ok(related('CONTAINS', pkg('webd').SPDXID).includes(webd.SPDXID));
    assert.ok(!image.has('/usr/share/man/man8/webd.8.gz'), 'a trimmed file is not listed');
    assert.equal((spdx.files.find((f) => f.fileName === './srv/index.html') as any).comment, "jeos.yaml's workload.files");
  });

  test('every package of the image\'s dpkg status is in both documents at the same version, with its purl', async () => {
    const files = tarFiles(await readFile(join(project, 'out/rootfs.tar')));
    const status = files.get('/var/lib/dpkg/status')!.toString('utf8');
    const installed = status
      .trim()
      .split(/\n\n+/)
      .map((p) => Object.fromEntries(p.split('\n').filter((l) => /^\S+:/.test(l)).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()])));
    assert.ok(installed.length >= 3);
    const imagePackages = new Set(related('CONTAINS', 'SPDXRef-image'));
    for (const p of installed) {
      const purl = `pkg:deb/debian/${p.Package}@${p.Version}?arch=${p.Architecture}&distro=debian-13`;
      const s = pkg(p.Package!);
      assert.ok(s, `${p.Package} is in the SPDX document`);
      assert.equal(s.versionInfo, p.Version);
      assert.equal(s.externalRefs[0].referenceLocator, purl);
      assert.ok(imagePackages.has(s.SPDXID), `${p.Package} is in the image`);
      const c = cdx.components.find((x: any) => x.purl === purl);
      assert.ok(c, `${p.Package} is in the CycloneDX document with its purl`);
      assert.equal(c.version, p.Version);
      assert.equal(c.type, 'library');
    }
  });

  test('the CycloneDX document is valid CycloneDX 1.6 by the library\'s strict validator, with the kernel and the dependency graph', async () => {
    const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
    assert.equal(await validator.validate(cdxText), null);
    assert.notEqual(await validator.validate(JSON.stringify({ ...cdx, components: [{ type: 'nonsense', name: 'x' }] })), null, 'the validator does refuse');
    assert.equal(cdx.specVersion, '1.6');
    assert.match(cdx.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const { sourceDateEpoch } = JSON.parse(await readFile(join(project, 'out/build.json'), 'utf8'));
    assert.equal(cdx.metadata.timestamp, new Date(sourceDateEpoch * 1000).toISOString());
    assert.equal(cdx.metadata.component.type, 'container');
    const kernel = cdx.components.find((c: any) => c.name === KERNEL);
    assert.equal(kernel.type, 'operating-system');
    assert.equal(kernel.purl, `pkg:deb/debian/${KERNEL}@6.12.0-9?arch=amd64&distro=debian-13`);
    const vm = cdx.components.find((c: any) => c['bom-ref'] === 'jeos:vm');
    assert.equal(vm.type, 'operating-system');
    const deps = new Map(cdx.dependencies.map((d: any) => [d.ref, d.dependsOn ?? []]));
    assert.ok((deps.get('jeos:vm') as string[]).includes(kernel['bom-ref']));
    const webd = cdx.components.find((c: any) => c.name === 'webd');
    assert.deepEqual(
      (deps.get(webd['bom-ref']) as string[]).sort(),
      ['libbase', 'libweb'].map((n) => cdx.components.find((c: any) => c.name === n)['bom-ref']).sort(),
    );
    assert.deepEqual(webd.licenses, [{ expression: pkg('webd').licenseDeclared, acknowledgement: 'declared' }]);
    assert.equal(webd.hashes[0].content, pkg('webd').checksums[0].checksumValue);
    assert.ok(cdx.components.some((c: any) => c['bom-ref'] === `file:vm:/usr/lib/systemd/systemd`), 'the VM\'s files are listed');
  });

  test('two builds from different directories and caches give byte-identical SBOMs', async () => {
    const other = join(h.work, 'elsewhere', 'webd');
    await mkdir(join(h.work, 'elsewhere'));
    await cp(project, other, { recursive: true });
    await rm(join(other, 'out'), { recursive: true });
    const r = await h.jeos('build', other, '--quiet', '--cache-dir', join(h.work, 'other-cache'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(other, 'out/sbom.spdx.json'), 'utf8'), spdxText);
    assert.equal(await readFile(join(other, 'out/sbom.cdx.json'), 'utf8'), cdxText);
    const record = JSON.parse(await readFile(join(other, 'out/build.json'), 'utf8'));
    assert.deepEqual(
      record.records.map((f: any) => f.path).filter((p: string) => p.startsWith('sbom')),
      ['sbom.spdx.json', 'sbom.cdx.json'],
      'build.json lists the SBOMs with their digests',
    );
    assert.equal(record.records.find((f: any) => f.path === 'sbom.spdx.json').sha256, hash('sha256', Buffer.from(spdxText)));
    // The identifiers follow the content: another timestamp, another namespace and serial number.
    const epoch = await runProgram([process.execPath, cli, 'build', other, '--quiet'], { env: { ...h.env, SOURCE_DATE_EPOCH: '1000000000' }, cwd: h.work });
    assert.equal(epoch.code, 0, epoch.stderr);
    const later = JSON.parse(await readFile(join(other, 'out/sbom.spdx.json'), 'utf8')) as SpdxDoc;
    assert.equal(later.creationInfo.created, '2001-09-09T01:46:40Z');
    assert.notEqual(later.documentNamespace, spdx.documentNamespace);
    assert.notEqual(JSON.parse(await readFile(join(other, 'out/sbom.cdx.json'), 'utf8')).serialNumber, cdx.serialNumber);
  });
});
