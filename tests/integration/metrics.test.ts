// Operations endpoints (issue 15): /metrics is Prometheus text and counts a
// call (rooms, peers, transports, SFU workers, connection events, decrypt
// failures that browsers report — counts only); it answers loopback, or a
// scraper with the token, and no one else; /api/health says 503 when no SFU
// worker can hold a call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { connectSocket, send } from '../support/socket-client.ts';
import { parsePrometheusText, sampleValue, type Sample } from '../support/prometheus-text.ts';
import type { ConfideServer } from '../../server/app.ts';
import { startTestServer } from '../e2e/support/server.ts';
import { TestConsultation } from '../e2e/support/consultation.ts';
import { waitFor } from '../e2e/support/browser.ts';
import { inTestNetwork, TEST_NET_IP } from '../e2e/support/netns.ts';

let server: ConfideServer;
const sockets: Socket[] = [];
const TOKEN = 'scraper-token-0123456789';

async function connect(session?: string): Promise<Socket> {
  const socket = await connectSocket(server.url, session);
  sockets.push(socket);
  return socket;
}

async function scrape(url = server.url, headers: Record<string, string> = {}): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

beforeAll(async () => {
  server = await startTestServer({ CONFIDE_GRACE_MS: '5000', CONFIDE_METRICS_TOKEN: TOKEN });
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await server?.close();
});

describe('/metrics', () => {
  it("parses as Prometheus text and counts a call's peers, transports and connection events", async () => {
    const before = await scrape();
    expect(sampleValue(before, 'confide_peers')).toBe(0);
    expect(sampleValue(before, 'confide_rooms')).toBe(0);
    expect(sampleValue(before, 'confide_sfu_workers')).toBe(1);
    expect(sampleValue(before, 'confide_sfu_worker_cpu_seconds', { worker: '0' })).toBeGreaterThan(0);

    const c = await TestConsultation.create(server);
    const doctor = await connect(c.doctorSession);
    expect((await send(doctor, 'join', { roomId: c.id, displayName: 'Dr' })).ok).toBe(true);
    const patient = await connect();
    expect((await send(patient, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé' })).ok).toBe(true);
    const entry = server.consultations.waitingList(c.id)[0]!;
    await server.consultations.admit(c.doctor, c.id, entry.requestId);
    expect((await send(patient, 'join', { roomId: c.id, displayName: 'Zoé' })).ok).toBe(true);
    for (const s of [doctor, patient]) {
      for (const direction of ['send', 'recv']) expect((await send(s, 'createTransport', { direction })).ok).toBe(true);
    }

    const during = await scrape();
    expect(sampleValue(during, 'confide_rooms')).toBe(1);
    expect(sampleValue(during, 'confide_peers')).toBe(2);
    expect(sampleValue(during, 'confide_transports')).toBe(4);

    // A dropped connection that comes back within the grace period.
    patient.io.engine.close();
    await waitFor('the drop noticed', async () => sampleValue(await scrape(), 'confide_peers_reconnecting'), (n) => n === 1);
    const back = new Promise<void>((resolve) => patient.once('connect', () => resolve()));
    patient.connect();
    await back;
    await waitFor(
      'the return counted',
      async () => sampleValue(await scrape(), 'confide_connection_events_total', { event: 'reconnected' }),
      (n) => n === 1,
    );
    const after = await scrape();
    expect(sampleValue(after, 'confide_connection_events_total', { event: 'connection_lost' })).toBe(1);
    expect(sampleValue(after, 'confide_peers_reconnecting')).toBe(0);
    expect(sampleValue(after, 'confide_peers')).toBe(2);
  });

  it('adds the decrypt failures browsers report, as counts only, and refuses hostile reports', async () => {
    const c = await TestConsultation.create(server);
    const doctor = await connect(c.doctorSession);
    const outsider = await connect(c.doctorSession);
    expect((await send(outsider, 'reportDecryptFailures', { failures: 5 })).error?.code).toBe('not-joined');
    expect((await send(doctor, 'join', { roomId: c.id, displayName: 'Dr' })).ok).toBe(true);
    const start = sampleValue(await scrape(), 'confide_decrypt_failures_reported_total') ?? 0;
    expect((await send(doctor, 'reportDecryptFailures', { failures: 3 })).ok).toBe(true);
    expect((await send(doctor, 'reportDecryptFailures', { failures: 4 })).ok).toBe(true);
    for (const hostile of [{ failures: -1 }, { failures: 0 }, { failures: 1e9 }, { failures: 1.5 }, { failures: 1, peerId: 'x' }, {}]) {
      expect((await send(doctor, 'reportDecryptFailures', hostile)).error?.code).toBe('bad-request');
    }
    const samples = await scrape();
    expect(sampleValue(samples, 'confide_decrypt_failures_reported_total')).toBe(start + 7);
    expect(sampleValue(samples, 'confide_decrypt_failure_reports_total')).toBe(2);
    // A connection check decrypts only its own loopback: its reports are not a call's.
    const checker = await connect();
    expect((await send(checker, 'startCheck', { consultationId: c.id, token: c.patientToken })).ok).toBe(true);
    expect((await send(checker, 'reportDecryptFailures', { failures: 10_000 })).error?.code).toBe('forbidden');
    checker.disconnect();
    expect(sampleValue(await scrape(), 'confide_decrypt_failures_reported_total')).toBe(start + 7);
    // Counts only: no room, peer or consultation id anywhere in the exposition.
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).not.toContain(c.id);
  });

  it('is not local when a proxy forwarded it, nor under an encoded path', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${server.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } })).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { headers: { forwarded: 'for=203.0.113.9' } })).status).toBe(404);
    expect((await fetch(`${server.url}/%6detrics`)).status).toBe(404);
  });

  it('answers only loopback, or a scraper with the token', async () => {
    if (!inTestNetwork()) return; // needs the test address (scripts/test-e2e.sh)
    const outside = await startTestServer({ CONFIDE_HOST: TEST_NET_IP, CONFIDE_METRICS_TOKEN: TOKEN });
    try {
      expect((await fetch(`${outside.url}/metrics`)).status).toBe(404);
      expect((await fetch(`${outside.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-000000000' } })).status).toBe(404);
      expect(sampleValue(await scrape(outside.url, { authorization: `Bearer ${TOKEN}` }), 'confide_peers')).toBe(0);
    } finally {
      await outside.close();
    }
  });
});

describe('/api/health', () => {
  it('is 200 while an SFU worker lives, 503 when none does', async () => {
    const ok = await fetch(`${server.url}/api/health`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true });
    server.pool.close();
    const down = await fetch(`${server.url}/api/health`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ ok: false });
  });
});
