/**
 * Where the frame Worker's time goes: a V8 CPU profile of the E2EE frame
 * Workers (DevTools protocol: Profiler.start/stop on each worker target)
 * while a 1:1 call runs on the bench rig (scripts/bench/browser-rig.ts).
 * Prints the functions with the most self time and writes each profile to
 * .cache/profiles/ (open in Chromium DevTools → Performance).
 *
 *   flock /tmp/confide-browser.lock npx tsx scripts/profile-frame-worker.ts [on|pass] [seconds]
 *
 * Not a test and not part of `npm run bench`: a tool for finding hot spots.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CDPSession } from 'playwright-core';
import { BrowserRig, type BenchE2ee } from './bench/browser-rig.ts';

const mode = (process.argv[2] ?? 'on') as BenchE2ee;
const seconds = Number(process.argv[3] ?? 10);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** A worker target reached through the browser session (non-flat: messages wrapped in Target.sendMessageToTarget). */
class WorkerSession {
  private nextId = 1;
  private readonly pending = new Map<number, (r: { result?: unknown; error?: unknown }) => void>();
  constructor(
    private readonly browser: CDPSession,
    private readonly sessionId: string,
  ) {
    browser.on('Target.receivedMessageFromTarget', (e: { sessionId: string; message: string }) => {
      if (e.sessionId !== this.sessionId) return;
      const m = JSON.parse(e.message) as { id?: number; result?: unknown; error?: unknown };
      if (m.id !== undefined) this.pending.get(m.id)?.(m), this.pending.delete(m.id);
    });
  }

  async send<T>(method: string, params: object = {}): Promise<T> {
    const id = this.nextId++;
    const reply = new Promise<{ result?: unknown; error?: unknown }>((r) => this.pending.set(id, r));
    await this.browser.send('Target.sendMessageToTarget', { sessionId: this.sessionId, message: JSON.stringify({ id, method, params }) });
    const m = await reply;
    if (m.error) throw new Error(`${method}: ${JSON.stringify(m.error)}`);
    return m.result as T;
  }
}

/** Self time per function (ms), from the profile's samples and time deltas. */
function selfTimes(p: Profile): Map<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number>();
  (p.samples ?? []).forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${path.basename(f.url)}:${f.lineNumber + 1}`;
    out.set(key, (out.get(key) ?? 0) + (p.timeDeltas?.[i] ?? 0) / 1000);
  });
  return out;
}

const rig = new BrowserRig();
await rig.start();
try {
  const call = await rig.call(mode);
  await new Promise((r) => setTimeout(r, 5000));
  const cdp = await rig.browser.newBrowserCDPSession();
  const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: { targetId: string; type: string; url: string }[] };
  const workers = targetInfos.filter((t) => t.type === 'worker' && t.url.includes('frame-worker'));
  console.log(`mode ${mode}: profiling ${workers.length} frame Worker(s) for ${seconds} s`);
  const sessions = await Promise.all(
    workers.map(async (t) => {
      const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId: t.targetId, flatten: false })) as { sessionId: string };
      const s = new WorkerSession(cdp, sessionId);
      await s.send('Profiler.enable');
      await s.send('Profiler.setSamplingInterval', { interval: 100 });
      await s.send('Profiler.start');
      return s;
    }),
  );
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const profiles = await Promise.all(sessions.map((s) => s.send<{ profile: Profile }>('Profiler.stop').then((r) => r.profile)));
  await call.close();
  const dir = path.resolve('.cache/profiles');
  fs.mkdirSync(dir, { recursive: true });
  const total = new Map<string, number>();
  profiles.forEach((p, i) => {
    fs.writeFileSync(path.join(dir, `frame-worker-${mode}-${i}.cpuprofile`), JSON.stringify(p));
    for (const [k, v] of selfTimes(p)) total.set(k, (total.get(k) ?? 0) + v);
  });
  const wall = profiles.reduce((a, p) => a + (p.endTime - p.startTime) / 1000, 0);
  const busy = [...total].filter(([k]) => !k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
  console.log(`busy ${busy.toFixed(0)} ms of ${wall.toFixed(0)} ms profiled (${((100 * busy) / wall).toFixed(1)} % per Worker, on average)\n`);
  console.log('| self ms | % of busy | function |\n| --- | --- | --- |');
  for (const [k, v] of [...total].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`| ${v.toFixed(1)} | ${((100 * v) / busy).toFixed(1)} | ${k} |`);
  }
} finally {
  await rig.stop();
}
