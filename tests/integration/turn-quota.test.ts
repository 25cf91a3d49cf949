// One holder of a patient link cannot take the relay's ports (issue 15,
// review): a participant (here a connection check, which needs no
// admission) gets one TURN username for all its transports and ICE
// restarts, so coturn's per-username quota (12) bounds what it can hold;
// the doctor of the call still gets relay ports afterwards.
import type dgram from 'node:dgram';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ConfideServer } from '../../server/app.ts';
import { startTestServer } from '../e2e/support/server.ts';
import { TestConsultation } from '../e2e/support/consultation.ts';
import { TEST_NET_IP } from '../e2e/support/netns.ts';
import { connectSocket, send } from '../support/socket-client.ts';
import { allocate } from '../support/turn-client.ts';

type Cred = { urls: string[]; username: string; credential: string };
let server: ConfideServer;
const sockets: dgram.Socket[] = [];

beforeAll(async () => {
  server = await startTestServer({ CONFIDE_RTC_LISTEN_IP: TEST_NET_IP, CONFIDE_MEDIA_PORT: '41700', CONFIDE_TURN_HOST: TEST_NET_IP, CONFIDE_TURN_RELAY_PORTS: '61100-61160' });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
});

it('one username per participant across transports and ICE restarts: its allocations stop at 12; the doctor still gets one', async () => {
  const c = await TestConsultation.create(server);
  const s = await connectSocket(server.url);
  expect((await send(s, 'startCheck', { consultationId: c.id, token: c.patientToken })).ok).toBe(true);
  const creds: Cred[] = [];
  for (const direction of ['send', 'recv'] as const) {
    const t = (await send(s, 'createTransport', { direction })).data as { id: string; iceServers: Cred[] };
    creds.push(t.iceServers[0]!);
    for (let i = 0; i < 3; i++) creds.push(((await send(s, 'restartIce', { transportId: t.id })).data as { iceServers: Cred[] }).iceServers[0]!);
  }
  expect(new Set(creds.map((x) => x.username)).size).toBe(1);

  // The attacker allocates with everything it was given, 4 times over the quota.
  const results: string[] = [];
  for (let i = 0; i < 48; i++) {
    const cred = creds[i % creds.length]!;
    results.push(await allocate(TEST_NET_IP, 3478, cred.username, cred.credential, sockets, TEST_NET_IP).catch((e: unknown) => String(e)));
  }
  const ok = results.filter((r) => r === 'ok').length;
  console.log(`[turn quota] 48 allocations with the ${creds.length} credentials one check got: ${ok} ok, the rest ${[...new Set(results.filter((r) => r !== 'ok'))].join(', ')}`);
  expect(ok).toBe(12);

  const doctor = await connectSocket(server.url, c.doctorSession);
  expect((await send(doctor, 'join', { roomId: c.id, displayName: 'Dr' })).ok).toBe(true);
  const dt = (await send(doctor, 'createTransport', { direction: 'send' })).data as { iceServers: Cred[] };
  expect(await allocate(TEST_NET_IP, 3478, dt.iceServers[0]!.username, dt.iceServers[0]!.credential, sockets, TEST_NET_IP)).toBe('ok');
  s.close();
  doctor.close();
}, 120_000);
