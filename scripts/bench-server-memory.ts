/**
 * Server memory per live consultation (issue 14, item 4), with the server in
 * a process of its own (tests/e2e/support/cluster-node-main.ts, one SFU
 * worker, no Redis): consultations are added in steps, each a signed-in
 * doctor and an admitted patient over raw socket.io connections, each with
 * its send and receive WebRtcTransport as a browser's page creates them (no
 * DTLS, no media: the state a call holds, not its RTP buffers). At each step,
 * after 2 s of quiet, the RSS of the Node process and of its SFU worker
 * (/proc). The slope per consultation is the figure: the server's start-up
 * footprint cancels out.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import { openStores } from '../server/store/index.ts';
import { FAST_HASHER } from '../tests/e2e/support/server.ts';
import { TestConsultation } from '../tests/e2e/support/consultation.ts';
import { connectSocket, send } from '../tests/support/socket-client.ts';
import { freePort } from '../tests/support/nginx.ts';
import type { ConfideServer } from '../server/app.ts';
import { descendants, fmt, rssBytes } from './bench/proc.ts';

const STEPS = (process.env.CONFIDE_BENCH_SERVER_N ?? '0,10,25,50,100').split(',').map(Number);

export interface ServerMemoryStep {
  consultations: number;
  nodeRss: number;
  workerRss: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One consultation in the server: doctor joins, patient enters, the doctor admits it, it joins; two transports each. */
async function addConsultation(url: string, c: TestConsultation, sockets: Socket[]): Promise<void> {
  const doctor = await connectSocket(url, c.doctorSession);
  const patient = await connectSocket(url);
  sockets.push(doctor, patient);
  const must = async (s: Socket, event: string, payload: unknown) => {
    const a = await send(s, event, payload);
    if (!a.ok) throw new Error(`${event}: ${a.error?.code}`);
    return a.data;
  };
  await must(doctor, 'join', { roomId: c.id, displayName: 'Dr' });
  const waiting = new Promise<string>((resolve) => doctor.once('patientWaiting', (w: { requestId: string }) => resolve(w.requestId)));
  await must(patient, 'enterWaitingRoom', { consultationId: c.id, token: c.patientToken, displayName: 'Zoé' });
  await must(doctor, 'admit', { requestId: await waiting });
  await must(patient, 'join', { roomId: c.id, displayName: 'Zoé' });
  for (const s of [doctor, patient]) for (const direction of ['send', 'recv']) await must(s, 'createTransport', { direction });
}

export async function benchServerMemory(steps = STEPS): Promise<ServerMemoryStep[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-server-memory-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/e2e/support/cluster-node-main.ts'], {
    cwd: path.resolve(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, CONFIDE_PORT: String(port), CONFIDE_HOST: '127.0.0.1', CONFIDE_DATA_DIR: dir, CONFIDE_WORKERS: '1', CONFIDE_MEDIA_PORT: '0', CONFIDE_LOG_LEVEL: 'warn', CONFIDE_MAX_SOCKETS_PER_IP: '100000' },
  });
  const sockets: Socket[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => ((out += d), out.includes('READY ') && resolve()));
      child.once('exit', (code) => reject(new Error(`the server exited (${code})`)));
    });
    const url = `http://127.0.0.1:${port}`;
    const stores = await openStores(path.join(dir, 'confide.sqlite'), { passwordHasher: FAST_HASHER });
    const server = { stores, url } as unknown as ConfideServer;
    const out: ServerMemoryStep[] = [];
    let n = 0;
    try {
      for (const target of steps) {
        for (; n < target; n++) await addConsultation(url, await TestConsultation.create(server), sockets);
        await sleep(2_000);
        const workers = descendants(child.pid!);
        out.push({ consultations: n, nodeRss: rssBytes(child.pid!), workerRss: workers.reduce((a, pid) => a + rssBytes(pid), 0) });
      }
    } finally {
      await stores.db.close();
    }
    return out;
  } finally {
    for (const s of sockets) s.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0);
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

export function printServerMemory(steps: ServerMemoryStep[]): void {
  const MB = 1024 * 1024;
  console.log('Server in its own process (1 SFU worker): consultations with a doctor and an admitted patient, two WebRtcTransports each, no media.\n');
  console.log('| live consultations | Node process RSS MB | SFU worker RSS MB | both MB |');
  console.log('| --- | --- | --- | --- |');
  for (const s of steps) console.log(`| ${s.consultations} | ${fmt(s.nodeRss / MB)} | ${fmt(s.workerRss / MB)} | ${fmt((s.nodeRss + s.workerRss) / MB)} |`);
  const xs = steps.map((s) => s.consultations);
  const per = (f: (s: ServerMemoryStep) => number) => fmt(slope(xs, steps.map(f)) / MB, 2);
  console.log(`\nPer live consultation (least-squares slope): Node process ${per((s) => s.nodeRss)} MB, SFU worker ${per((s) => s.workerRss)} MB, both ${per((s) => s.nodeRss + s.workerRss)} MB.`);
}
