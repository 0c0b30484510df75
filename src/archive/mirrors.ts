/** Where the Debian archive and the security archive are fetched from (decided by src/settings). */
export interface Mirrors {
  archive: string;
  security: string;
  /** Where each URL came from, for messages. */
  from: { archive: MirrorOrigin; security: MirrorOrigin };
}
export type MirrorOrigin = 'flag' | 'environment' | 'config' | 'apt' | 'derived';

export function isSecuritySuite(suite: string): boolean {
  return suite.endsWith('-security') || suite.endsWith('/updates');
}

/** The mirror serving a suite: the security archive for *-security suites. */
export function mirrorFor(mirrors: Mirrors, suite: string): string {
  return isSecuritySuite(suite) ? mirrors.security : mirrors.archive;
}
