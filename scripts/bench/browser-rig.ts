/**
 * One Confide server (serving the bench build, dist/client-bench) and one
 * Chromium with a 640×480, 30 fps fake camera, for the browser sections of
 * `npm run bench`. Everything listens on 127.0.0.1 (the server's defaults),
 * so the browsers' media and signalling stay on loopback. A call runs in
 * one of three modes (BenchE2ee): E2EE on (the shipped client), or one of
 * the bench-only baselines of client/call/bench-hooks.ts: off (no frame
 * transform) or pass (the frame Worker passes frames through, no crypto).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ConfideServer } from '../../server/app.ts';
import { startTestServer } from '../../tests/e2e/support/server.ts';
import { launchChromium, newPerson } from '../../tests/e2e/support/browser.ts';
import { TestConsultation } from '../../tests/e2e/support/consultation.ts';
import { buildBenchClient } from '../../tests/e2e/support/global-setup.ts';
import { cmdline, descendants } from './proc.ts';

/** E2EE on, no transform at all, or the pass-through transform (client/call/bench-hooks.ts). */
export type BenchE2ee = 'on' | 'off' | 'pass';

const BENCH_CLIENT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/client-bench');

export interface BenchCall {
  c: TestConsultation;
  doctor: Page;
  patient: Page;
  /** From the doctor's Admit click to the first decoded remote video frame on each page (ms). */
  doctorFirstFrameMs: number;
  patientFirstFrameMs: number;
  close(): Promise<void>;
}

/** Resolves (in the page) with Date.now() once a remote video stream has decoded a frame; polls getStats every 20 ms. */
function firstFrameAt(page: Page): Promise<number> {
  return page.evaluate(async () => {
    for (;;) {
      const stats = window.__confide?.inboundStats as undefined | (() => Promise<{ kind: string; framesDecoded: number }[]>);
      const s = stats ? await stats().catch(() => []) : [];
      if (s.some((x) => x.kind === 'video' && x.framesDecoded > 0)) return Date.now();
      await new Promise((r) => setTimeout(r, 20));
    }
  });
}

export class BrowserRig {
  server!: ConfideServer;
  browser!: Browser;

  /** `clientDir`: serve this (already built) bench client instead of building and serving dist/client-bench. */
  constructor(private readonly clientDir?: string) {}

  async start(): Promise<void> {
    if (!this.clientDir) buildBenchClient();
    const clientDir = this.clientDir ?? BENCH_CLIENT_DIR;
    this.server = await startTestServer({ CONFIDE_WORKERS: '1', CONFIDE_HOST: '127.0.0.1', CONFIDE_RTC_LISTEN_IP: '127.0.0.1' }, { clientDir });
    // No mDNS names for host candidates: Chromium would announce them by multicast on the
    // machine's real interfaces. The server's only candidate is 127.0.0.1, so ICE stays on loopback.
    this.browser = await launchChromium(['--use-fake-device-for-media-stream=fps=30', '--disable-features=WebRtcHideLocalIpsWithMdns']);
  }

  async stop(): Promise<void> {
    await this.browser?.close();
    await this.server?.close();
  }

  private async person(mode: BenchE2ee): Promise<{ context: BrowserContext; page: Page }> {
    const p = await newPerson(this.browser, this.server.url);
    if (mode !== 'on') await p.context.addInitScript((m) => window.localStorage.setItem('confide.benchE2ee', m), mode);
    return p;
  }

  /**
   * A doctor in the call, a patient in the waiting room, then the doctor's
   * Admit click (timed in the page, as the click happens) and the wait for
   * the first remote frame on both pages.
   */
  async call(mode: BenchE2ee, name = 'Zoé'): Promise<BenchCall> {
    const c = await TestConsultation.create(this.server);
    const d = await this.person(mode);
    const p = await this.person(mode);
    const close = async () => {
      await d.context.close().catch(() => undefined);
      await p.context.close().catch(() => undefined);
    };
    try {
      await c.joinAsDoctor(d.page);
      await p.page.goto(c.patientLink);
      await p.page.getByLabel('Your name').fill(name);
      await p.page.getByRole('button', { name: 'Continue' }).click();
      await p.page.getByTestId('waiting-room').waitFor();
      const admit = d.page.getByTestId('waiting-list').getByRole('button', { name: `Admit ${name}` });
      await admit.waitFor();
      const frames = Promise.all([firstFrameAt(d.page), firstFrameAt(p.page)]);
      frames.catch(() => undefined); // a timeout below reports it; the pages closing must not be unhandled
      const clickedAt = await admit.evaluate((b: HTMLElement) => {
        const t = Date.now();
        b.click();
        return t;
      });
      const [dAt, pAt] = await withTimeout(frames, 30_000, 'first remote frames');
      return { c, doctor: d.page, patient: p.page, doctorFirstFrameMs: dAt - clickedAt, patientFirstFrameMs: pAt - clickedAt, close };
    } catch (err) {
      await close();
      throw err;
    }
  }

  /** Chromium's processes (browser, renderers, GPU, utilities) with their --type (browser: 'browser'). */
  chromiumProcesses(): { pid: number; type: string }[] {
    const workers = new Set(this.server.pool.pids);
    return descendants(process.pid)
      .filter((pid) => !workers.has(pid))
      // Chromium rewrites its argv into one space-separated string.
      .map((pid) => ({ pid, cmd: cmdline(pid).join(' ') }))
      .filter((p) => /chrom/i.test(p.cmd.split(' ')[0] ?? ''))
      .map(({ pid, cmd }) => ({ pid, type: /--type=(\S+)/.exec(cmd)?.[1] ?? 'browser' }));
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms))),
  ]);
}
