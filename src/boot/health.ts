import { connect } from 'node:net';

/** A health check as jeos.yaml declares it (one of http, tcp, command). */
export interface HealthcheckSpec {
  http?: string;
  status: number;
  tcp?: number;
  command?: string[] | string;
  timeout: number;
}

export interface ProbeResult {
  ok: boolean;
  /** What was seen: "HTTP 200", "connection refused", the command's exit status. */
  detail: string;
}

/** Maps a port inside the image to a reachable host and port. */
export type PortMapper = (port: number, protocol: 'tcp' | 'udp') => { host: string; port: number } | undefined;

/** The port an http(s) URL names, defaulting as browsers do. */
export function urlPort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

export async function probeHttp(spec: { http: string; status: number }, mapPort: PortMapper): Promise<ProbeResult> {
  const inside = new URL(spec.http);
  const mapped = mapPort(urlPort(inside), 'tcp');
  if (!mapped) return { ok: false, detail: `port ${urlPort(inside)} is not published` };
  const outside = new URL(inside.href);
  outside.hostname = mapped.host;
  outside.port = String(mapped.port);
  try {
    const response = await fetch(outside, { signal: AbortSignal.timeout(5000), redirect: 'manual' });
    await response.body?.cancel();
    return {
      ok: response.status === spec.status,
      detail: `HTTP ${response.status} from ${inside.href}${response.status === spec.status ? '' : ` (expected ${spec.status})`}`,
    };
  } catch (e) {
    const cause = (e as Error & { cause?: Error }).cause;
    return { ok: false, detail: `${inside.href}: ${cause?.message ?? (e as Error).message}` };
  }
}

export function probeTcp(port: number, mapPort: PortMapper): Promise<ProbeResult> {
  const mapped = mapPort(port, 'tcp');
  if (!mapped) return Promise.resolve({ ok: false, detail: `port ${port} is not published` });
  return new Promise((resolve) => {
    const socket = connect({ host: mapped.host, port: mapped.port });
    const done = (result: ProbeResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(5000, () => done({ ok: false, detail: `tcp ${port}: timed out` }));
    socket.once('connect', () => done({ ok: true, detail: `tcp ${port} accepts connections` }));
    socket.once('error', (e) => done({ ok: false, detail: `tcp ${port}: ${e.message}` }));
  });
}

/** The ports a health check needs published, besides the workload's own. */
export function healthcheckPorts(spec: HealthcheckSpec | undefined): number[] {
  if (spec?.http) return [urlPort(new URL(spec.http))];
  if (spec?.tcp) return [spec.tcp];
  return [];
}

