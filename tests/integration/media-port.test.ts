// One media port per SFU worker (issue 15): every WebRTC transport of a
// worker is offered on the same UDP and TCP port (its WebRtcServer), on the
// announced address; a replaced worker listens on the same port again; ICE
// restarts work on it; the configuration refuses what cannot work.
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { connectSocket, send } from '../support/socket-client.ts';
import type { ConfideServer } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { startTestServer } from '../e2e/support/server.ts';
import { TestConsultation } from '../e2e/support/consultation.ts';
import { waitFor } from '../e2e/support/browser.ts';

const BASE = 41300;
const ANNOUNCED = '203.0.113.7'; // TEST-NET-3: only ever written into candidates
let server: ConfideServer;
const sockets: Socket[] = [];

type Candidate = { ip: string; port: number; protocol: 'udp' | 'tcp' };

async function doctorIn(c: TestConsultation): Promise<Socket> {
  const socket = await connectSocket(server.url, c.doctorSession);
  sockets.push(socket);
  expect((await send(socket, 'join', { roomId: c.id, displayName: 'Dr' })).ok).toBe(true);
  return socket;
}

async function transport(socket: Socket, direction: 'send' | 'recv'): Promise<{ id: string; iceCandidates: Candidate[] }> {
  const ack = await send(socket, 'createTransport', { direction });
  expect(ack.ok).toBe(true);
  return ack.data as { id: string; iceCandidates: Candidate[] };
}

/** True when `port` on 127.0.0.1 is taken for `protocol` (someone else listens there). */
async function taken(protocol: 'udp' | 'tcp', port: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const s = dgram.createSocket('udp4');
      s.once('error', () => resolve(true));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(false)));
    } else {
      const s = net.createServer();
      s.once('error', () => resolve(true));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    }
  });
}

beforeAll(async () => {
  server = await startTestServer({ CONFIDE_WORKERS: '2', CONFIDE_MEDIA_PORT: String(BASE), CONFIDE_ANNOUNCED_IP: ANNOUNCED });
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server?.close();
});

describe('one media port per SFU worker', () => {
  it('offers every transport of a worker on its one UDP and TCP port, on the announced address', async () => {
    const a = await TestConsultation.create(server);
    const b = await TestConsultation.create(server);
    const sa = await doctorIn(a);
    const sb = await doctorIn(b);
    expect(server.rooms.peek(a.id)!.workerPid).not.toBe(server.rooms.peek(b.id)!.workerPid);
    const all = [
      await transport(sa, 'send'),
      await transport(sa, 'recv'),
      await transport(sb, 'send'),
      await transport(sb, 'recv'),
    ];
    for (const t of all) {
      expect(t.iceCandidates.map((c) => c.protocol).sort()).toEqual(['tcp', 'udp']);
      for (const c of t.iceCandidates) expect(c.ip).toBe(ANNOUNCED);
    }
    const ports = new Set(all.flatMap((t) => t.iceCandidates.map((c) => c.port)));
    expect([...ports].sort()).toEqual([BASE, BASE + 1]);
    for (const port of [BASE, BASE + 1]) {
      expect(await taken('udp', port)).toBe(true);
      expect(await taken('tcp', port)).toBe(true);
    }

    // An ICE restart on a transport of the shared port gives new credentials.
    const restart = await send(sa, 'restartIce', { transportId: all[0]!.id });
    expect(restart.ok).toBe(true);
    expect((restart.data as { iceParameters: { usernameFragment: string } }).iceParameters.usernameFragment).toBeTruthy();
  });

  it('a replaced worker listens on the same port again, and the moved room offers it', async () => {
    const c = await TestConsultation.create(server);
    const socket = await doctorIn(c);
    const before = (await transport(socket, 'send')).iceCandidates[0]!.port;
    const resets: unknown[] = [];
    socket.on('mediaReset', (d: unknown) => resets.push(d));
    const victim = server.rooms.peek(c.id)!.workerPid;

    process.kill(victim, 'SIGKILL');
    await waitFor('the room told to rebuild', async () => resets.length, (n) => n === 1, 10_000, 50);
    await waitFor('the dead worker replaced', async () => server.pool.pids.length, (n) => n === 2, 10_000, 50);
    // The replacement took the dead worker's slot, hence its port.
    await waitFor('its port open again', () => taken('udp', before), (t) => t, 10_000, 50);
    expect((await send(socket, 'rejoinMedia', {})).ok).toBe(true);
    const after = await transport(socket, 'send');
    const moved = server.rooms.peek(c.id)!;
    const ports = after.iceCandidates.map((x) => x.port);
    expect(ports.every((p) => p === BASE || p === BASE + 1)).toBe(true);
    // A new room on the replacement (whichever slot) still only uses the two ports.
    expect(moved.workerPid).not.toBe(victim);
    expect(await taken('udp', BASE)).toBe(true);
    expect(await taken('tcp', BASE + 1)).toBe(true);
  });
});

describe('media port configuration', () => {
  const base = { CONFIDE_WORKERS: '2' };
  it('defaults to port 40000 + worker index, with the port range as an option', () => {
    expect(loadConfig(base).media).toEqual({ mode: 'server', listenIp: '127.0.0.1', announcedIp: undefined, basePort: 40000 });
    expect(loadConfig({ ...base, CONFIDE_MEDIA_PORT: 'range' }).media.mode).toBe('range');
    expect(loadConfig({ ...base, CONFIDE_RTC_ANNOUNCED_IP: '192.0.2.1' }).media.announcedIp).toBe('192.0.2.1');
  });
  it('refuses what cannot work', () => {
    expect(() => loadConfig({ ...base, CONFIDE_MEDIA_PORT: '65535' })).toThrow(/CONFIDE_MEDIA_PORT/);
    expect(() => loadConfig({ ...base, CONFIDE_MEDIA_PORT: 'udp' })).toThrow(/CONFIDE_MEDIA_PORT/);
    expect(() => loadConfig({ ...base, CONFIDE_ANNOUNCED_IP: 'clinic.example' })).toThrow(/CONFIDE_ANNOUNCED_IP/);
    expect(() => loadConfig({ ...base, CONFIDE_RTC_LISTEN_IP: '0.0.0.0' })).toThrow(/CONFIDE_ANNOUNCED_IP/);
  });
});
