import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCert } from '../../../test/support/configure/certs.js';
import { pemBlocks, singleCertificate, subjectHash } from './x509.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

function opensslHash(pem: string): string {
  return execFileSync('openssl', ['x509', '-hash', '-noout'], { input: pem }).toString().trim();
}

test('subject hashes match openssl x509 -hash, including canonicalization corner cases', { skip: !hasOpenssl ? 'needs openssl' : false }, () => {
  const subjects = [
    '/CN=Plain Root CA',
    '/C=DE/O=  Mixed   CASE \tOrg  /CN=Spaces   Inside',
    '/C=HU/L=Budapest/O=NetLock Kft./OU=Tanúsítványkiadók (Certification Services)/CN=NetLock Arany (Class Gold) Főtanúsítvány',
    '/CN=ünïcödé ÜPPER',
    '/DC=org/DC=Example/CN=Multi',
  ];
  for (const s of subjects) {
    const pem = makeCert(s);
    const der = singleCertificate(pem);
    assert.ok(der, s);
    assert.equal(subjectHash(der), opensslHash(pem), s);
  }
  // A multi-valued RDN (one SET with two attributes, sorted by their encodings).
  const multi = makeCert('/CN=zeta+OU=Alpha/O=Org', ['-multivalue-rdn']);
  assert.equal(subjectHash(singleCertificate(multi)!), opensslHash(multi));
  // PrintableString and T61String values (string_mask default/nombstr) instead of UTF8String.
  const dir = mkdtempSync(join(tmpdir(), 'jeos-x509-conf-'));
  try {
    for (const mask of ['default', 'nombstr']) {
      const conf = join(dir, `${mask}.cnf`);
      writeFileSync(conf, `[req]\ndistinguished_name = dn\nstring_mask = ${mask}\n[dn]\n`);
      const pem = makeCert('/C=US/O=Printable  Org/CN=Printable Name', ['-config', conf]);
      assert.equal(subjectHash(singleCertificate(pem)!), opensslHash(pem), mask);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every CA certificate of this machine hashes as openssl does', { skip: !hasOpenssl || !existsSync('/usr/share/ca-certificates') ? 'needs openssl and /usr/share/ca-certificates' : false }, () => {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.crt')) files.push(p);
    }
  };
  walk('/usr/share/ca-certificates');
  assert.ok(files.length > 0);
  const ours = files.map((f) => subjectHash(singleCertificate(readFileSync(f, 'latin1'))!));
  const theirs = files.map((f) => execFileSync('openssl', ['x509', '-hash', '-noout', '-in', f]).toString().trim());
  assert.deepEqual(ours, theirs);
});

test('PEM files with anything but one certificate are not hashed', () => {
  const cert = '-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n';
  assert.equal(singleCertificate('no pem here'), undefined);
  assert.equal(singleCertificate(cert + cert), undefined);
  assert.equal(singleCertificate('-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n'), undefined);
  assert.equal(singleCertificate(cert), undefined); // MAA= is an empty SEQUENCE: no subject
  assert.deepEqual(pemBlocks(cert + cert).map((b) => b.label), ['CERTIFICATE', 'CERTIFICATE']);
});
