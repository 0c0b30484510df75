import { JeosError } from '../../errors.js';

export interface OciPlatform {
  architecture: string;
  os: 'linux';
  variant?: string;
}

/** Debian architecture → OCI platform (GOARCH names, with the ARM variant). */
const PLATFORMS: Record<string, Omit<OciPlatform, 'os'>> = {
  amd64: { architecture: 'amd64' },
  arm64: { architecture: 'arm64', variant: 'v8' },
  armhf: { architecture: 'arm', variant: 'v7' },
  armel: { architecture: 'arm', variant: 'v5' },
  i386: { architecture: '386' },
  ppc64el: { architecture: 'ppc64le' },
  s390x: { architecture: 's390x' },
  riscv64: { architecture: 'riscv64' },
  mips64el: { architecture: 'mips64le' },
  loong64: { architecture: 'loong64' },
};

export function ociPlatform(debianArch: string): OciPlatform {
  const p = PLATFORMS[debianArch];
  if (!p) {
    throw new JeosError('E_OUTPUT_ARCH', `no OCI platform is known for the Debian architecture ${JSON.stringify(debianArch)}`, {
      hint: `use one of ${Object.keys(PLATFORMS).join(', ')}`,
    });
  }
  return { architecture: p.architecture, os: 'linux', ...(p.variant ? { variant: p.variant } : {}) };
}
