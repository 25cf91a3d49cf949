// Issue 16, in browsers: three Confide nodes (each its own process) share one
// PostgreSQL and one Redis, behind an nginx balancer that is the clinic
// origin. The doctor's browser enters through node B, the patient's through
// node C; the room lands on node A (least loaded, lowest id on a tie); both
// are redirected there — the doctor with a staff ticket, since the clinic's
// cookie never reaches a node's own origin — and talk with E2EE video. Node
// C's console shows the call live. Then node A is SIGKILLed: the pages go
// back through the balancer, the registry gives the room to a live node, the
// room is rebuilt there with new keys, and video is two-way again within
// 10 s, with no re-admission and no registry entry left naming node A.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { ConfideServer } from '../../server/app.ts';
import { launchChromium, newPerson, waitFor } from './support/browser.ts';
import { TestConsultation } from './support/consultation.ts';
import { ClusterRig } from './support/cluster-rig.ts';
import { twoWayAfter } from './support/faults.ts';
import { e2eeStats } from './support/call.ts';

const rig = new ClusterRig();
let browser: Browser;
let c: TestConsultation;
let doctor: Page;
let patient: Page;
let adminCookie: string;

/** The origin a page's signalling socket is open to now. */
const socketOrigin = (page: Page) => page.evaluate(() => (window.__confide?.session as { signalling: { origin: string } }).signalling.origin);

/** The console's view (staff API) of our consultation, asked of node `id` directly. */
async function consoleOn(id: string): Promise<{ live: { connected: { role: string }[] } } | undefined> {
  const res = await fetch(`${rig.node(id).url}/api/admin/consultations`, { headers: { cookie: adminCookie } });
  if (!res.ok) throw new Error(`console on ${id}: ${res.status}`);
  const body = (await res.json()) as { consultations: { id: string; live: { connected: { role: string }[] } }[] };
  return body.consultations.find((x) => x.id === c.id);
}

async function decryptedFrom(page: Page): Promise<number> {
  const s = await e2eeStats(page);
  return Object.values(s.receivers).reduce((n, r) => n + r.decrypted, 0);
}

beforeAll(async () => {
  await rig.start(['node-a', 'node-b', 'node-c']);
  browser = await launchChromium();
  const admin = await rig.stores.users.create({ email: 'admin@clinic.test', name: 'Admin', role: 'admin', password: 'console admin passphrase' });
  adminCookie = `confide_session=${await rig.stores.sessions.create(admin.id)}`;
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await rig.stop();
});

describe('three nodes, one PostgreSQL, one Redis', () => {
  it('doctor through node B, patient through node C: one E2EE call on node A, live on node C\'s console', { timeout: 120_000 }, async () => {
    // TestConsultation only needs a store and the origin the pages load from.
    c = await TestConsultation.create({ stores: rig.stores, url: rig.lbUrl } as unknown as ConfideServer);
    const d = await newPerson(browser, rig.lbUrl);
    const p = await newPerson(browser, rig.lbUrl);
    await d.context.addCookies([{ name: 'lb_node', value: 'node-b', url: rig.lbUrl }]);
    await p.context.addCookies([{ name: 'lb_node', value: 'node-c', url: rig.lbUrl }]);
    [doctor, patient] = [d.page, p.page];
    await c.joinAsDoctor(doctor);
    const admitted = Date.now();
    await c.joinAsPatientAdmittedIn(doctor, patient, 'Zoé');
    const setupMs = await twoWayAfter([doctor, patient], admitted);
    console.log(`[cluster] call set up across nodes: two-way video ${setupMs} ms after the patient's entry`);

    expect(await rig.redisClient.get(`confide:room:${c.id}`)).toBe('node-a');
    expect(await socketOrigin(doctor)).toBe(rig.node('node-a').url);
    expect(await socketOrigin(patient)).toBe(rig.node('node-a').url);
    // E2EE: each side decrypts the other's SFrame frames, and sends nothing in the clear.
    for (const page of [doctor, patient]) {
      expect(await decryptedFrom(page)).toBeGreaterThan(0);
      const s = await e2eeStats(page);
      expect(s.sender.encrypted).toBeGreaterThan(0);
    }
    // The staff cookie belongs to the balancer's host: node A's origin never saw it.
    const cookies = await d.context.cookies(rig.node('node-a').url);
    expect(cookies.find((k) => k.name === 'confide_session')).toBeUndefined();

    await waitFor('node C\'s console shows the call live', () => consoleOn('node-c'), (v) => v?.live.connected.length === 2, 10_000);
  });

  it('SIGKILL of the hosting node: two-way E2EE video on another node within 10 s, nobody re-admitted, no orphan entries', { timeout: 120_000 }, async () => {
    const admittedBefore = (await rig.stores.audit.list(c.id)).filter((e) => e.event === 'admitted').length;
    const decryptedBefore = await decryptedFrom(doctor);
    const killedAt = await rig.kill('node-a');
    const ms = await twoWayAfter([doctor, patient], killedAt, 30_000);
    console.log(`[cluster] failover: two-way video ${ms} ms after SIGKILL of the hosting node`);
    expect(ms).toBeLessThan(10_000);

    const host = await rig.redisClient.get(`confide:room:${c.id}`);
    expect(host === 'node-b' || host === 'node-c').toBe(true);
    // Each page talks to the new host: through the balancer if its entry node is the host, else on the host's origin.
    for (const [page, entry] of [[doctor, 'node-b'], [patient, 'node-c']] as const) {
      expect(await socketOrigin(page)).toBe(entry === host ? rig.lbUrl : rig.node(host!).url);
    }
    // Re-agreed keys: frames decrypt again, under new keys.
    await waitFor('the doctor decrypts again', () => decryptedFrom(doctor), (n) => n > 0 && n !== decryptedBefore, 10_000);
    // No re-admission: the patient came back with its rejoin credential.
    expect((await rig.stores.audit.list(c.id)).filter((e) => e.event === 'admitted').length).toBe(admittedBefore);
    expect(await patient.getByTestId('waiting-room').count()).toBe(0);

    // No orphans: node A's record, room list and every room entry naming it are gone once a peer reaped it.
    await waitFor(
      'node A reaped from the registry',
      async () => {
        const keys = await rig.redisClient.keys('confide:*');
        const rooms = keys.filter((k) => k.startsWith('confide:room:'));
        const owners = rooms.length ? await rig.redisClient.mget(rooms) : [];
        return { nodeKeys: keys.filter((k) => k.startsWith('confide:node:node-a')), owners, nodes: await rig.redisClient.smembers('confide:nodes') };
      },
      (r) => r.nodeKeys.length === 0 && !r.owners.includes('node-a') && !r.nodes.includes('node-a'),
      15_000,
    );
    await waitFor('node C\'s console shows the call live again', () => consoleOn('node-c'), (v) => v?.live.connected.length === 2, 10_000);
  });
});
