import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { authFiles, pushImage, type PushEvent, type PushResult } from '../../lifecycle/push/index.js';
import { OCI_DIR, recoverOutputDir } from '../../outputs/index.js';
import { formatBytes, printJson } from '../format.js';

interface PushFlags {
  out?: string;
  tlsVerify: boolean;
  authfile?: string;
  json?: boolean;
  quiet?: boolean;
}

function parseBool(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError('true or false');
}

export function registerPush(program: Command): void {
  program
    .command('push')
    .argument('<dir>', 'directory holding jeos.yaml, whose out/oci jeos build wrote')
    .argument('<ref>', 'REGISTRY/REPOSITORY[:TAG]: where to push; without a tag, under every tag of the image')
    .option('--out <dir>', 'the build output to push from (default: DIR/out)')
    .option('--tls-verify <bool>', 'false: talk plain HTTP to the registry (one you trust, on loopback or your network)', parseBool, true)
    .option('--authfile <path>', 'credentials file (containers-auth.json(5)); default: $REGISTRY_AUTH_FILE, then podman\'s and docker\'s usual files')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('-q, --quiet', 'no progress output')
    .description('push the OCI image of a build (and its SBOM, attached) to a registry; prints the digest the registry serves')
    .addHelpText(
      'after',
      `
Blobs go first (each skipped when the registry has it), the manifest under each
tag last: a push that fails leaves no tag behind. The digest printed is the one
the registry answers for the tag, checked against the image's own. When
out/sbom.spdx.json exists it is pushed after the image as an OCI 1.1 artefact
whose subject is the image (a warning, not a failure, if the registry refuses it).

Credentials come from the auth files podman and skopeo use: --authfile or
$REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json,
~/.config/containers/auth.json, ~/.docker/config.json (podman login writes them).

Examples:
  jeos push examples/nginx registry.example.com/web/nginx
  jeos push examples/nginx registry.example.com/web/nginx:1.26 --json
  jeos push . 127.0.0.1:5000/nginx --tls-verify=false`,
    )
    .action(async (dir: string, ref: string, flags: PushFlags) => {
      const outDir = resolve(flags.out ?? join(dir, 'out'));
      await recoverOutputDir(outDir);
      const log = (line: string) => !flags.json && !flags.quiet && process.stderr.write(`${line}\n`);
      const result = await pushImage({
        ociDir: join(outDir, OCI_DIR),
        ref,
        tlsVerify: flags.tlsVerify,
        authFiles: authFiles(process.env, flags.authfile),
        sbomPath: join(outDir, 'sbom.spdx.json'),
        onEvent: (e) => progress(e, log),
      });
      if (flags.json) return printJson({ ok: true, ...result });
      printResult(result);
    });
}

function progress(e: PushEvent, log: (line: string) => void): void {
  if (e.kind === 'blob' && e.state !== 'uploading') log(`${e.state === 'exists' ? 'exists ' : 'pushed '} ${e.digest} (${formatBytes(e.size)})`);
  else if (e.kind === 'auth') log(`auth: ${e.scheme}${e.source ? ` (credentials from ${e.source})` : ''}`);
  else if (e.kind === 'warning') log(`warning: ${e.message}`);
}

function printResult(r: PushResult): void {
  for (const tag of r.tags) console.log(`pushed ${r.repository}:${tag}`);
  console.log(`digest ${r.digest}`);
  console.log(`pull   ${r.pullRef}`);
  if (r.sbom && 'digest' in r.sbom) console.log(`sbom   ${r.sbom.digest} (attached; ${r.sbom.referrers === 'api' ? 'referrers API' : 'referrers tag'})`);
}
