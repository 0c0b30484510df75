import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { testContainer, type ContainerTestResult } from '../../boot/container.js';
import { portSpec } from '../../build/image-spec.js';
import { loadConfig } from '../../config/load.js';
import { JeosError } from '../../errors.js';
import { printJson } from '../format.js';

interface TestFlags {
  container?: boolean;
  out?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerTest(program: Command): void {
  program
    .command('test')
    .argument('[dir]', 'directory holding jeos.yaml', '.')
    .description('run the built image and check that the workload answers its health check')
    .option('--container', 'run the OCI image with podman (the default)')
    .option('--out <dir>', 'where jeos build wrote the image (default: DIR/out)')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      `
The health check comes from workload.healthcheck in jeos.yaml: an HTTP URL and
status, a TCP port, or a command run inside the container. Ports are published
on 127.0.0.1 only. Exit status 0 only when the workload answers.

Examples:
  jeos build examples/nginx && jeos test examples/nginx --container
  jeos test . --json`,
    )
    .action(async (dir: string, flags: TestFlags) => {
      const loaded = await loadConfig(dir);
      const outDir = resolve(flags.out ?? join(loaded.dir, 'out'));
      const ociDir = join(outDir, 'oci');
      if (!(await stat(join(ociDir, 'index.json')).catch(() => undefined))) {
        throw new JeosError('E_TEST_NO_IMAGE', `no OCI image in ${ociDir}`, {
          hint: `build it first: jeos build ${dir} (with oci among the outputs)`,
        });
      }
      const log = (line: string) => !flags.json && !flags.quiet && process.stderr.write(`${line}\n`);
      const built = JSON.parse(await readFile(join(outDir, 'build.json'), 'utf8').catch(() => '{}')) as { configDigest?: string };
      if (built.configDigest && built.configDigest !== loaded.digest) {
        log(`note: the image in ${outDir} was built for a different package selection than jeos.yaml now asks for; run jeos build`);
      }
      const w = loaded.config.workload;
      const result = await testContainer({
        ociDir,
        tag: 'latest',
        ports: w.ports.map((p) => {
          const [port, protocol] = portSpec(p).split('/');
          return { port: Number(port), protocol: protocol as 'tcp' | 'udp' };
        }),
        healthcheck: w.healthcheck,
        onEvent: (e) => {
          if (e.type === 'fallback') log(`note: ${e.reason}`);
          else if (e.type === 'started') log(`started ${e.container}${Object.keys(e.ports).length ? `: ${Object.entries(e.ports).map(([k, v]) => `${k} → ${v}`).join(', ')}` : ''}`);
        },
      });
      if (flags.json) printJson({ mode: 'container', ...result });
      else printResult(result);
      if (!result.ok) process.exitCode = 1;
    });
}

function printResult(r: ContainerTestResult): void {
  const t = r.timings;
  if (r.ok) {
    console.log(`ok: ${r.healthcheck.detail} (ready ${t.ready} ms after start; load ${t.load} ms, runtime ${r.runtime})`);
    return;
  }
  console.log(`FAILED: ${r.healthcheck.detail}`);
  if (r.logs) console.log(`--- the workload's last output ---\n${r.logs}`);
}
