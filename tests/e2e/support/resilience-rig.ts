// A restartable Confide server (2 SFU workers, fixed port, data dir and media
// ports), a Chromium, and the real faults of issue 9, each returning its
// recovery time: from the end of the fault to two-way video. Shared by
// tests/e2e/resilience.test.ts and the bench (scripts/bench-resilience.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ConfideServer } from '../../../server/app.ts';
import { startTestServer } from './server.ts';
import { TestConsultation } from './consultation.ts';
import { launchChromium, newPerson } from './browser.ts';
import { blockPorts, clearBlocks, twoWayAfter } from './faults.ts';

export interface RigCall {
  c: TestConsultation;
  doctor: Page;
  patient: Page;
  /** From the patient's admission to video decoding on both pages (ms). */
  setupMs: number;
  close(): Promise<void>;
}

export class ResilienceRig {
  server!: ConfideServer;
  browser!: Browser;
  port = '0';
  private readonly open = new Set<RigCall>();
  private readonly dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-resilience-'));

  /** `rtcPorts`: a media port range of its own, so a firewall rule hits only this server. */
  constructor(readonly rtcPorts = { min: 41100, max: 41199 }) {}

  private env(): Record<string, string> {
    return {
      CONFIDE_DATA_DIR: this.dataDir,
      CONFIDE_WORKERS: '2',
      CONFIDE_PORT: this.port,
      CONFIDE_RTC_MIN_PORT: String(this.rtcPorts.min),
      CONFIDE_RTC_MAX_PORT: String(this.rtcPorts.max),
    };
  }

  async start(): Promise<void> {
    clearBlocks();
    this.server = await startTestServer(this.env());
    this.port = new URL(this.server.url).port;
    this.browser = await launchChromium();
  }

  async stop(): Promise<void> {
    clearBlocks();
    await this.browser?.close();
    await this.server?.close();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** A doctor and an admitted patient in a call with video both ways. */
  async call(patientName = 'Zoé'): Promise<RigCall> {
    const c = await TestConsultation.create(this.server);
    const d = await newPerson(this.browser, this.server.url);
    const p = await newPerson(this.browser, this.server.url);
    const open = this.open;
    const call: RigCall = {
      c,
      doctor: d.page,
      patient: p.page,
      setupMs: 0,
      async close() {
        open.delete(call);
        await d.context.close().catch(() => undefined);
        await p.context.close().catch(() => undefined);
      },
    };
    this.open.add(call);
    await c.joinAsDoctor(d.page);
    await c.joinAsPatient(p.page, patientName);
    call.setupMs = await twoWayAfter([d.page, p.page], c.admittedAt);
    return call;
  }

  /** Closes every call's pages (after each test, even a failed one: 2 cores cannot carry leftovers). */
  async closeCalls(): Promise<void> {
    for (const call of [...this.open]) await call.close();
  }

  /**
   * (a) A network drop: blocks this server's signalling and media ports on
   * loopback, closes every engine.io connection on both ends, runs `during`
   * (e.g. send chat), keeps the block for `blockMs`, lifts it. Returns the
   * recovery time (ms).
   */
  async networkDrop(call: RigCall, blockMs = 3000, during: () => Promise<void> = async () => undefined): Promise<number> {
    const lift = blockPorts([Number(this.port), `${this.rtcPorts.min}-${this.rtcPorts.max}`]);
    let end = 0;
    try {
      for (const s of this.server.io.sockets.sockets.values()) s.conn.close();
      for (const page of [call.doctor, call.patient]) {
        await page.evaluate(() =>
          (window.__confide?.session as { signalling: { socket: { io: { engine: { close(): void } } } } }).signalling.socket.io.engine.close(),
        );
      }
      const started = Date.now();
      await during();
      await new Promise((r) => setTimeout(r, Math.max(0, blockMs - (Date.now() - started))));
    } finally {
      lift();
      end = Date.now();
    }
    const ms = await twoWayAfter([call.doctor, call.patient], end);
    // Where the time went: each page's resume (its connection owner's clock) against the video.
    const resumed = await Promise.all(
      [call.doctor, call.patient].map((p) =>
        p.evaluate(() => (window.__confide?.connection as { snapshot(): { recoveredAt?: number } }).snapshot().recoveredAt ?? 0),
      ),
    );
    console.log(`[resilience] (a) after the drop ended: resumed doctor +${resumed[0]! - end} ms, patient +${resumed[1]! - end} ms; two-way video +${ms} ms`);
    return ms;
  }

  /** (d) Closes the server, runs `during`, starts it again on the same port and data. Returns ms from it answering. */
  async restartServer(call: RigCall, during: () => Promise<void> = async () => undefined, downMs = 1500): Promise<number> {
    await this.server.close();
    const started = Date.now();
    await during();
    await new Promise((r) => setTimeout(r, Math.max(0, downMs - (Date.now() - started))));
    this.server = await startTestServer(this.env());
    return twoWayAfter([call.doctor, call.patient], Date.now());
  }

  /** (e) SIGKILLs the SFU worker under `call`'s room. Returns the recovery time (ms) and a promise of it. */
  killWorker(call: RigCall): { victim: number; recovery: Promise<number> } {
    const victim = this.server.rooms.peek(call.c.id)!.workerPid;
    const at = Date.now();
    process.kill(victim, 'SIGKILL');
    return { victim, recovery: twoWayAfter([call.doctor, call.patient], at) };
  }
}
