import { createSocket } from 'node:dgram';

/** health.ts's ProbeResult (that module imports this one). */
interface NtpProbeResult {
  ok: boolean;
  detail: string;
}

const NTP_TIMEOUT_MS = 5000;
const LEAP = ['no warning', 'last minute has 61 s', 'last minute has 59 s', 'not synchronised'];

/**
 * An NTP client request (RFC 5905 7.3): 48 bytes, version 4, mode 3 (client), and a
 * transmit timestamp the server must copy into its reply's origin timestamp, which tells
 * its reply from a stray datagram.
 */
export function ntpRequest(transmit: Buffer): Buffer {
  const packet = Buffer.alloc(48);
  packet[0] = (0 << 6) | (4 << 3) | 3;
  transmit.copy(packet, 40, 0, 8);
  return packet;
}

/** What a reply to `request` says, or why it is not one: mode 4 (server) and our timestamp echoed. */
export function readNtpReply(request: Buffer, reply: Buffer): { ok: true; stratum: number; leap: string } | { ok: false; why: string } {
  if (reply.length < 48) return { ok: false, why: `a ${reply.length}-byte datagram, not an NTP reply` };
  const mode = reply[0]! & 0x07;
  if (mode !== 4) return { ok: false, why: `an NTP packet of mode ${mode}, not a server's reply (4)` };
  if (!reply.subarray(24, 32).equals(request.subarray(40, 48))) return { ok: false, why: 'an NTP reply to another request (its origin timestamp is not ours)' };
  return { ok: true, stratum: reply[1]!, leap: LEAP[reply[0]! >> 6]! };
}

/**
 * Send one NTP client request over UDP and wait for the server's reply. Any server reply
 * to our request means the server speaks NTP on that port, synchronised or not (a server
 * that has not reached its sources yet answers with leap "not synchronised", and works).
 * A server that serves no clients sends nothing back, or its host refuses the port.
 * `mapped` is where the host reaches the image's UDP port (undefined: not published).
 */
export function probeNtp(port: number, mapped: { host: string; port: number } | undefined): Promise<NtpProbeResult> {
  if (!mapped) return Promise.resolve({ ok: false, detail: `port ${port}/udp is not published` });
  const transmit = Buffer.alloc(8);
  transmit.writeUInt32BE((Math.random() * 0xffffffff) >>> 0, 0);
  transmit.writeUInt32BE((Date.now() * 4294967) >>> 0, 4);
  const request = ntpRequest(transmit);
  return new Promise((resolve) => {
    const socket = createSocket(mapped.host.includes(':') ? 'udp6' : 'udp4');
    let settled = false;
    const done = (result: NtpProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, detail: `ntp ${port}/udp: no reply in ${NTP_TIMEOUT_MS / 1000} s` }), NTP_TIMEOUT_MS);
    socket.on('error', (e) => done({ ok: false, detail: `ntp ${port}/udp: ${e.message}` }));
    socket.on('message', (reply) => {
      const r = readNtpReply(request, reply);
      if (r.ok) done({ ok: true, detail: `ntp ${port}/udp answers: stratum ${r.stratum}, ${r.leap}` });
      else if (r.why.includes('another request')) return;
      else done({ ok: false, detail: `ntp ${port}/udp: ${r.why}` });
    });
    // A connected socket hears the ICMP port unreachable of a closed port as ECONNREFUSED.
    socket.connect(mapped.port, mapped.host, () => socket.send(request));
  });
}
