/**
 * Test support: throwaway self-signed certificates made by openssl.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway self-signed certificate with the given subject (openssl -subj syntax). */
export function makeCert(subject: string, extra: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'jeos-x509-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'),
      '-subj', subject, '-utf8', '-days', '1', '-out', join(dir, 'cert.pem'), ...extra,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    return readFileSync(join(dir, 'cert.pem'), 'latin1');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
