import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { JeosError } from '../errors.js';
import { argv } from '../util/argv.js';
import { healthcheckForwards, healthcheckKind, probeNetwork, type HealthcheckKind, type HealthcheckSpec, type PortMapper, type ProbeResult } from './health.js';
import { requireTool, run, which } from './tools.js';

export interface PublishedPort {
  port: number;
  protocol: 'tcp' | 'udp';
}

export interface ContainerTestOptions {
  /** The OCI image layout directory, and the reference in it to run (default: its first, `NAME:TAG`). */
  ociDir: string;
  tag?: string;
  ports: PublishedPort[];
  healthcheck?: HealthcheckSpec;
  onEvent?: (e: ContainerEvent) => void;
}

export type ContainerEvent =
  | { type: 'load'; image: string }
  /** Loaded into podman's store: its ID, and the name it has there (`NAME:TAG`). */
  | { type: 'loaded'; image: string; name: string }
  | { type: 'fallback'; reason: string; flags: string[] }
  | { type: 'started'; container: string; ports: Record<string, string> }
  | { type: 'probe'; result: ProbeResult };

export interface ContainerTestResult {
  ok: boolean;
  /** The name the image was loaded under (`NAME:TAG`; podman shows `localhost/NAME:TAG` for a name without a registry). */
  image: string;
  runtime: string;
  /** Flags added because the host refused podman's defaults, and why. */
  fallbacks: Array<{ reason: string; flags: string[] }>;
  /** `80/tcp` → `127.0.0.1:41234`. */
  ports: Record<string, string>;
  healthcheck: { kind: HealthcheckKind | 'running'; ok: boolean; detail: string; attempts: number };
  timings: { load: number; start: number; ready: number | null };
  /** The container's exit code when it stopped on its own. */
  exitCode: number | null;
  /** The last lines of the workload's output. */
  logs: string;
}

/**
 * Known ways hosts refuse podman's defaults, and what to add instead: crun refuses
 * hybrid cgroup layouts (runc copes), and podman's default rlimits cannot always be
 * raised (a container engine inside a restricted VM or container).
 */
const FALLBACKS: Array<{ test: RegExp; reason: string; flags: () => Promise<string[] | undefined> }> = [
  {
    test: /cgroups? (in )?hybrid|cgroup.*not supported/i,
    reason: 'the default OCI runtime refuses this host\'s cgroup layout; using runc',
    flags: async () => ((await which('runc')) ? ['--runtime', 'runc'] : undefined),
  },
  {
    test: /rlimit|ulimit|setrlimit/i,
    reason: 'podman\'s default resource limits cannot be raised here; using 1024 open files and processes',
    flags: async () => ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'],
  },
];

function portKey(p: PublishedPort): string {
  return `${p.port}/${p.protocol}`;
}

async function podman(args: string[], timeoutMs = 120_000): Promise<string> {
  const r = await run('podman', args, { timeoutMs });
  if (r.code !== 0) {
    throw new JeosError('E_CONTAINER_PODMAN', `podman ${args[0]} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`, {
      hint: 'check that podman works on this host (podman info)',
    });
  }
  return r.stdout.trim();
}

/** Start the container, adding host fallbacks as podman's refusals call for them. */
async function startContainer(image: string, name: string, ports: PublishedPort[], onEvent: ContainerTestOptions['onEvent']) {
  const publish = ports.flatMap((p) => ['-p', `127.0.0.1::${p.port}/${p.protocol}`]);
  const fallbacks: ContainerTestResult['fallbacks'] = [];
  const extra: string[] = [];
  for (;;) {
    const r = await run('podman', ['run', '-d', '--name', name, ...extra, ...publish, image], { timeoutMs: 120_000 });
    if (r.code === 0) return { id: r.stdout.trim().split('\n').pop()!, fallbacks };
    await run('podman', ['rm', '-f', '-t', '0', name]);
    const message = (r.stderr || r.stdout).trim();
    const fallback = FALLBACKS.find((f) => f.test.test(message) && !fallbacks.some((u) => u.reason === f.reason));
    const flags = fallback && (await fallback.flags());
    if (!fallback || !flags) {
      throw new JeosError('E_CONTAINER_START', `podman could not start the image: ${message.split('\n').slice(-3).join(' ')}`, {
        hint: 'run `podman info` to check the container engine; on hybrid-cgroup hosts install runc',
      });
    }
    fallbacks.push({ reason: fallback.reason, flags });
    extra.push(...flags);
    onEvent?.({ type: 'fallback', reason: fallback.reason, flags });
  }
}

function mapperOf(ports: Record<string, string>): PortMapper {
  return (port, protocol) => {
    const hostPort = ports[`${port}/${protocol}`];
    if (!hostPort) return undefined;
    const colon = hostPort.lastIndexOf(':');
    return { host: hostPort.slice(0, colon) || '127.0.0.1', port: Number(hostPort.slice(colon + 1)) };
  };
}

/**
 * Run the image with podman and wait for its health check: HTTP status, a TCP port
 * accepting connections, a DNS answer, a protocol's greeting, or a command inside the container exiting 0. Without a
 * health check, the workload must still be running after a short settle time.
 * The container and the image it was loaded as are removed afterwards.
 */
export async function testContainer(options: ContainerTestOptions): Promise<ContainerTestResult> {
  await requireTool('podman', 'run the image in a container (jeos test --container)', 'podman');
  const began = Date.now();
  const { image, name: imageName } = await loadLayout(options.ociDir, options.tag, (ref) => options.onEvent?.({ type: 'load', image: ref }));
  options.onEvent?.({ type: 'loaded', image, name: imageName });
  const loaded = Date.now();
  const name = `jeos-test-${process.pid}-${randomBytes(3).toString('hex')}`;
  const wanted = new Map<string, PublishedPort>();
  for (const p of options.ports) wanted.set(portKey(p), p);
  for (const f of healthcheckForwards(options.healthcheck)) wanted.set(`${f.port}/${f.protocol}`, f);

  let container: string | undefined;
  try {
    const started = await startContainer(image, name, [...wanted.values()], options.onEvent);
    container = started.id;
    const startedAt = Date.now();
    const ports: Record<string, string> = {};
    for (const line of (await podman(['port', container])).split('\n')) {
      const m = /^(\d+\/(?:tcp|udp)) -> (.+)$/.exec(line.trim());
      if (m) ports[m[1]!] = m[2]!;
    }
    options.onEvent?.({ type: 'started', container: name, ports });
    const check = await waitHealthy(container, options.healthcheck, mapperOf(ports), options.onEvent);
    const runtime = (await run('podman', ['inspect', '--format', '{{.OCIRuntime}}', container])).stdout.trim();
    const logs = await run('podman', ['logs', '--tail', '40', container]);
    return {
      ok: check.ok,
      image: imageName,
      runtime,
      fallbacks: started.fallbacks,
      ports,
      healthcheck: check,
      timings: { load: loaded - began, start: startedAt - loaded, ready: check.ok ? Date.now() - startedAt : null },
      exitCode: check.exitCode,
      logs: `${logs.stdout}${logs.stderr}`.trimEnd(),
    };
  } finally {
    await run('podman', ['rm', '-f', '-t', '0', container ?? name]);
    await run('podman', ['rmi', image]);
  }
}

/**
 * Load an OCI layout into podman's store under the name it carries (`NAME:TAG`, the
 * layout's first reference unless `refName` names another): returns the image ID and name.
 */
export async function loadLayout(ociDir: string, refName?: string, onPull?: (ref: string) => void): Promise<{ image: string; name: string }> {
  const wanted = refName ?? (await firstRef(ociDir));
  // podman names an image pulled from oci:DIR after DIR, and refuses upper-case names:
  // pull through a lower-case link so any output path works.
  const base = tmpdir() === tmpdir().toLowerCase() ? tmpdir() : '/tmp';
  const linkDir = join(base, `jeos-test-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(linkDir, { mode: 0o700 });
  const link = join(linkDir, 'image');
  await symlink(resolvePath(ociDir), link);
  const ref = `oci:${link}:${wanted}`;
  onPull?.(ref);
  try {
    const image = (await podman(['pull', '-q', ref])).split('\n').pop()!;
    return { image, name: await nameImage(image, link, wanted) };
  } finally {
    await rm(linkDir, { recursive: true, force: true });
  }
}

/** The first reference of a layout's index.json (jeos names each `NAME:TAG`). */
async function firstRef(ociDir: string): Promise<string> {
  let index: { manifests?: Array<{ annotations?: Record<string, string> }> };
  try {
    index = JSON.parse(await readFile(join(ociDir, 'index.json'), 'utf8')) as typeof index;
  } catch (e) {
    throw new JeosError('E_CONTAINER_LAYOUT', `cannot read ${join(ociDir, 'index.json')}: ${(e as Error).message}`, {
      hint: 'build the image again (jeos build, with oci among the outputs)',
    });
  }
  const ref = index.manifests?.[0]?.annotations?.['org.opencontainers.image.ref.name'];
  if (!ref) {
    throw new JeosError('E_CONTAINER_LAYOUT', `${join(ociDir, 'index.json')} names no image`, {
      hint: 'build the image again (jeos build, with oci among the outputs)',
    });
  }
  return ref;
}

/**
 * podman names an image pulled from `oci:DIR:REF` after DIR, not after REF: give it the
 * layout's name instead (`nginx:latest` shows as localhost/nginx:latest), so that
 * `podman images` tells which image jeos is running.
 */
async function nameImage(image: string, link: string, refName: string): Promise<string> {
  const names = JSON.parse((await podman(['image', 'inspect', '--format', '{{json .RepoTags}}', image])) || '[]') as string[] | null;
  const byLink = (names ?? []).filter((n) => n.includes(link));
  // Another tool's layout may name a bare tag: then the name podman gave it is all there is.
  if (!refName.includes(':')) return byLink[0] ?? image;
  await podman(['tag', image, refName]);
  for (const name of byLink) await podman(['untag', image, name]);
  return refName;
}

async function containerState(container: string): Promise<{ running: boolean; exitCode: number }> {
  const r = await run('podman', ['inspect', '--format', '{{.State.Running}} {{.State.ExitCode}}', container]);
  const [running, code] = r.stdout.trim().split(' ');
  return { running: running === 'true', exitCode: Number(code ?? 0) };
}

async function waitHealthy(
  container: string,
  spec: HealthcheckSpec | undefined,
  mapPort: PortMapper,
  onEvent: ContainerTestOptions['onEvent'],
): Promise<ContainerTestResult['healthcheck'] & { exitCode: number | null }> {
  const kind = healthcheckKind(spec) ?? 'running';
  const deadline = Date.now() + (spec?.timeout ?? 5) * 1000;
  let attempts = 0;
  let last: ProbeResult = { ok: false, detail: 'not probed yet' };
  for (;;) {
    const state = await containerState(container);
    if (!state.running) {
      return { kind, ok: false, detail: `the workload exited with status ${state.exitCode} before it was healthy`, attempts, exitCode: state.exitCode };
    }
    if (kind === 'running') {
      // No health check: the workload counts as working when it stays up for the settle time.
      if (Date.now() >= deadline) return { kind, ok: true, detail: 'still running after 5 s (no health check declared)', attempts: 1, exitCode: null };
    } else {
      attempts++;
      last = await probe(container, spec!, mapPort);
      onEvent?.({ type: 'probe', result: last });
      if (last.ok) return { kind, ok: true, detail: last.detail, attempts, exitCode: null };
      if (Date.now() >= deadline) {
        return { kind, ok: false, detail: `not healthy after ${spec!.timeout} s: ${last.detail}`, attempts, exitCode: null };
      }
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function probe(container: string, spec: HealthcheckSpec, mapPort: PortMapper): Promise<ProbeResult> {
  const network = probeNetwork(spec, mapPort);
  if (network) return network;
  const r = await run('podman', ['exec', container, ...argv(spec.command!)], { timeoutMs: 30_000 });
  return { ok: r.code === 0, detail: `${argv(spec.command!).join(' ')} exited ${r.code}${r.stderr ? `: ${r.stderr.trim().split('\n').pop()}` : ''}` };
}
