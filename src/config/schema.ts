import { z } from 'zod';

/**
 * jeos.yaml, declared once. Validation, the JSON Schema for editors
 * (docs/jeos.schema.json) and the key table in docs/config.md all come from
 * these declarations: change a setting here and run `npm run gen`.
 */

/** The current Debian stable release; the default suite set is built from it. */
export const DEFAULT_RELEASE = 'trixie';
export const DEFAULT_SUITES = [DEFAULT_RELEASE, `${DEFAULT_RELEASE}-updates`, `${DEFAULT_RELEASE}-security`];

const suiteName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9./-]*$/, 'a suite name such as trixie, trixie-updates or trixie-security');

const url = z.string().regex(/^(https?|file):\/\/\S+$/, 'an http://, https:// or file:// URL');

/** A package request: `name`, `name=version` (`*` globs allowed), `name/suite` (as src/resolve/request.ts reads it). */
export const PACKAGE_SPEC = /^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:*-]+|\/[a-z0-9][a-z0-9.-]*)?$/;

export const DebianSchema = z
  .strictObject({
    suites: z
      .array(suiteName)
      .min(1)
      .default(DEFAULT_SUITES)
      .describe('Suites to take packages from; the newest version across them wins (so security updates always do).'),
    components: z.array(z.string().regex(/^[a-z0-9/-]+$/)).min(1).default(['main']).describe('Archive components to read.'),
    architecture: z
      .string()
      .regex(/^[a-z0-9-]+$/)
      .default('amd64')
      .describe('Debian architecture of the image.'),
    mirror: url
      .optional()
      .describe('Debian archive URL. Default: from the environment (JEOS_MIRROR) or the machine\'s apt sources.'),
    securityMirror: url
      .optional()
      .describe('Debian security archive URL, used for *-security suites. Default: JEOS_SECURITY_MIRROR or apt\'s sources.'),
    keyring: z
      .string()
      .min(1)
      .optional()
      .describe('OpenPGP keyring that must have signed the archive. Default: JEOS_KEYRING or the machine\'s debian-archive-keyring.'),
  })
  .describe('Where packages come from.');

export const WorkloadSchema = z
  .strictObject({
    packages: z
      .array(z.string().regex(PACKAGE_SPEC, 'a package name, optionally name=version (globs allowed) or name/suite'))
      .min(1)
      .describe('Packages the workload needs (name, name=version with * globs, name/suite).'),
    recommends: z.boolean().default(false).describe('Also install Recommends (off: a JeOS carries only hard dependencies).'),
    profile: z
      .enum(['none', 'minbase'])
      .default('none')
      .describe('none: only what the workload pulls in. minbase: also every Essential and Priority: required package (a shell-capable base).'),
  })
  .describe('What the image runs.');

export const OUTPUT_FORMATS = ['tar', 'oci', 'oci-archive', 'vm', 'disk'] as const;

export const ConfigSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]*$/, 'lower-case letters, digits, dots and dashes')
      .describe('Image name (lower-case letters, digits, dots, dashes).'),
    description: z.string().optional().describe('One line saying what the image is for.'),
    debian: DebianSchema.default({ suites: DEFAULT_SUITES, components: ['main'], architecture: 'amd64' }),
    workload: WorkloadSchema,
    outputs: z.array(z.enum(OUTPUT_FORMATS)).min(1).default(['tar', 'oci']).describe('Image formats to write.'),
  })
  .describe('A jeos image: one workload, and just enough operating system for it.');

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export function configJsonSchema(): Record<string, unknown> {
  return {
    title: 'jeos.yaml',
    ...z.toJSONSchema(ConfigSchema, { io: 'input' }),
  };
}
