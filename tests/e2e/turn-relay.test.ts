// Reachable through restrictive networks (issue 15): the server runs its TURN
// relay (Debian's coturn) and hands each participant's transports
// short-lived credentials. Inside a network namespace of its own (env.server,
// SFU, coturn and Chromium on the test address), nftables drops media the
// way a firewall does:
// - UDP to the SFU's one media port dropped → the call still connects (over
//   ICE-TCP to the same port, or the relay) with two-way E2EE media;
// - UDP and TCP to it dropped → through the relay only: every transport's
//   selected candidate pair is a relay candidate, and media decrypts;
// - UDP and TCP to the media port AND to the relay's plain port dropped
//   (only TLS gets through, as on networks that open 443 alone) → through
//   the relay over TLS (turns:, a self-signed certificate made here that
//   only this test's Chromium trusts): every selected pair is a relay
//   candidate whose relayProtocol is 'tls', and media decrypts.
import { afterAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { newPerson } from './support/browser.ts';
import { inOwnNetwork, TEST_NET_IP } from './support/netns.ts';
import { relayTestEnv } from './support/relay-env.ts';
import { TestConsultation } from './support/consultation.ts';
import { blockMediaPort, blockPorts, twoWayAfter } from './support/faults.ts';
import { e2eeStats } from './support/call.ts';
import { chromiumTrustArg, makeTestCert, type TestCert } from './support/test-cert.ts';

const MEDIA_PORT = 41500;
const TURN_PORT = 3478;
const TURN_TLS_PORT = 443; // we are root in the namespace; what restrictive networks leave open
const RELAY_PORTS = '61000-61049'; // above Linux's ephemeral range: no browser socket uses them

/** Each transport's selected candidate pair: the local candidate's type and protocol, and the remote's. */
interface SelectedPair {
  local: { type: string; protocol: string; relayProtocol?: string };
  remote: { type: string; protocol: string; port: number };
}

async function selectedPairs(page: Page): Promise<SelectedPair[]> {
  return page.evaluate(async () => {
    const reports = await (window.__confide?.session as { transportStats(): Promise<RTCStatsReport[]> }).transportStats();
    const out: SelectedPair[] = [];
    for (const report of reports) {
      const all = new Map<string, Record<string, unknown>>();
      report.forEach((s: Record<string, unknown>) => all.set(s.id as string, s));
      for (const s of all.values()) {
        if (s.type !== 'transport' || !s.selectedCandidatePairId) continue;
        const pair = all.get(s.selectedCandidatePairId as string)!;
        const l = all.get(pair.localCandidateId as string)!;
        const r = all.get(pair.remoteCandidateId as string)!;
        out.push({
          local: { type: String(l.candidateType), protocol: String(l.protocol), ...(l.relayProtocol ? { relayProtocol: String(l.relayProtocol) } : {}) },
          remote: { type: String(r.candidateType), protocol: String(r.protocol), port: Number(r.port) },
        });
      }
    }
    return out;
  });
}

inOwnNetwork('TURN relay', import.meta.url, 5 * 60_000, () => {
  let cert: TestCert | undefined;
  const env = relayTestEnv({
    mediaPort: MEDIA_PORT,
    relayPorts: RELAY_PORTS,
    env: () => {
      cert = makeTestCert(TEST_NET_IP, 'confide-turn-test');
      return {
        CONFIDE_TURN_PORT: String(TURN_PORT),
        CONFIDE_TURN_TLS_PORT: String(TURN_TLS_PORT),
        CONFIDE_TURN_TLS_CERT: cert.certFile,
        CONFIDE_TURN_TLS_KEY: cert.keyFile,
      };
    },
    // The relay's certificate is the test's own: this browser (only) trusts its key.
    browserArgs: () => [chromiumTrustArg(cert!)],
  });
  const { cleanup } = env;
  afterAll(() => cert?.remove());

  /** A doctor and an admitted patient with two-way video; returns both pages. */
  async function call(): Promise<{ doctor: Page; patient: Page }> {
    const c = await TestConsultation.create(env.server);
    const d = await newPerson(env.browser, env.server.url);
    const p = await newPerson(env.browser, env.server.url);
    cleanup.push(() => d.context.close(), () => p.context.close());
    await c.joinAsDoctor(d.page);
    await c.joinAsPatient(p.page, 'Zoé');
    const ms = await twoWayAfter([d.page, p.page], c.admittedAt, 40_000);
    console.log(`[turn] two-way video ${ms} ms after admission`);
    return { doctor: d.page, patient: p.page };
  }

  /** Both pages decrypt the other's frames (more each time), none fails authentication. */
  async function expectE2ee(pages: Page[]): Promise<void> {
    for (const page of pages) {
      const s = await e2eeStats(page);
      expect(s.sender.encrypted).toBeGreaterThan(30);
      const receivers = Object.values(s.receivers);
      expect(receivers.length).toBe(1);
      expect(receivers[0]!.decrypted).toBeGreaterThan(30);
      expect(receivers[0]!.failedAuth + receivers[0]!.malformed + receivers[0]!.wrongSender).toBe(0);
    }
  }

  describe('a call through a restrictive network', () => {
    it('hands out relay credentials with transports: UDP, TCP, TLS, short-lived', async () => {
      const c = await TestConsultation.create(env.server);
      const { connectSocket, send } = await import('../support/socket-client.ts');
      const s = await connectSocket(env.server.url, c.doctorSession);
      cleanup.push(() => s.disconnect());
      expect((await send(s, 'join', { roomId: c.id, displayName: 'Dr' })).ok).toBe(true);
      const t = (await send(s, 'createTransport', { direction: 'send' })).data as { iceServers: { urls: string[]; username: string; credential: string }[] };
      const [relay] = t.iceServers;
      expect(relay!.urls).toEqual([
        `turn:${TEST_NET_IP}:${TURN_PORT}?transport=udp`,
        `turn:${TEST_NET_IP}:${TURN_PORT}?transport=tcp`,
        `turns:${TEST_NET_IP}:${TURN_TLS_PORT}?transport=tcp`,
      ]);
      const expiry = Number(relay!.username.split(':')[0]);
      expect(expiry * 1000 - Date.now()).toBeGreaterThan(3 * 3600_000);
      expect(expiry * 1000 - Date.now()).toBeLessThanOrEqual(4 * 3600_000);
      expect(relay!.credential).toMatch(/^[A-Za-z0-9+/]{27}=$/); // base64 of an HMAC-SHA1
      // Not before admission: a connection that has not joined gets no transport, hence no credential.
      const stranger = await connectSocket(env.server.url);
      cleanup.push(() => stranger.disconnect());
      expect((await send(stranger, 'createTransport', { direction: 'send' })).error?.code).toBe('not-joined');
    });

    it('UDP to the media port dropped: connects over TCP or the relay, two-way E2EE media', async () => {
      cleanup.push(blockMediaPort(MEDIA_PORT, ['udp'], RELAY_PORTS));
      const { doctor, patient } = await call();
      await expectE2ee([doctor, patient]);
      for (const page of [doctor, patient]) {
        const pairs = await selectedPairs(page);
        console.log(`[turn] UDP blocked: selected pairs ${JSON.stringify(pairs)}`);
        expect(pairs).toHaveLength(2);
        // Not directly over UDP: the TCP host candidate of the media port, or a relay.
        for (const p of pairs) expect(p.local.type === 'relay' || (p.remote.protocol === 'tcp' && p.remote.port === MEDIA_PORT)).toBe(true);
      }
    });

    it('UDP and TCP to the media port dropped: through the relay only', async () => {
      cleanup.push(blockMediaPort(MEDIA_PORT, ['udp', 'tcp'], RELAY_PORTS));
      const { doctor, patient } = await call();
      await expectE2ee([doctor, patient]);
      for (const page of [doctor, patient]) {
        const pairs = await selectedPairs(page);
        console.log(`[turn] UDP and TCP blocked: selected pairs ${JSON.stringify(pairs)}`);
        expect(pairs).toHaveLength(2);
        for (const p of pairs) expect(p.local.type).toBe('relay');
      }
      expect(env.server.turn?.restarts).toBe(0);
    });

    it('only TLS to the relay gets through: relay over TLS (turns:), two-way E2EE media', async () => {
      cleanup.push(blockMediaPort(MEDIA_PORT, ['udp', 'tcp'], RELAY_PORTS));
      cleanup.push(blockPorts([TURN_PORT])); // plain TURN, UDP and TCP: what is left is TLS on TURN_TLS_PORT
      const { doctor, patient } = await call();
      await expectE2ee([doctor, patient]);
      for (const page of [doctor, patient]) {
        const pairs = await selectedPairs(page);
        console.log(`[turn] only TLS to the relay: selected pairs ${JSON.stringify(pairs)}`);
        expect(pairs).toHaveLength(2);
        for (const p of pairs) expect(p.local).toMatchObject({ type: 'relay', relayProtocol: 'tls' });
      }
      expect(env.server.turn?.restarts).toBe(0);
    });
  });
});
