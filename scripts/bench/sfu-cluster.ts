/**
 * The SFU capacity bench's process set, all on 127.0.0.1 (issues 14, 16):
 * - `nodes` node processes (sfu-node.ts), each owning a mediasoup
 *   WorkerPool of `workersPerNode` workers, as a Confide server process does;
 * - `generators` synthetic-participant processes (sfu-generator.ts);
 * - one sink process that binds a UDP socket and then blocks its own event
 *   loop, so the socket is never read: the receive transports of
 *   consultations that are not sampled send there. The SFU pays its whole
 *   egress (the loopback delivery is charged to the sending worker), the
 *   generators pay nothing for it.
 * Consultation c goes to node c mod nodes and generator c mod generators;
 * it is *sampled* (received and checked end to end) when c < 2 or
 * c mod sampleEvery = 0.
 *
 * `measure()` reads one step: CPU % of one core per process (/proc), RSS,
 * loss over every consultation from mediasoup's own counters (packets the
 * generators sent → producers received → consumers sent, read with the
 * senders paused so the three counts are exact), and the sampled
 * consultations' end-to-end loss, delay and SFrame tag checks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BenchChild } from './sfu-ipc.ts';
import type { NodeReq } from './sfu-node.ts';
import type { AddedConsultation, NodeCounters } from './sfu-wire.ts';
import type { E2eWindow, GenReq, Opened, SendCounters } from './sfu-generator.ts';
import { CpuMeter, machineBusyMs, quantile, rssBytes } from './proc.ts';

export interface ClusterOptions {
  nodes: number;
  workersPerNode: number;
  generators: number;
  /** Sample one consultation in this many (and always the first two). */
  sampleEvery: number;
  /** First RTC port of node 0; node k uses [base + 5000k, base + 5000k + 4999]. */
  rtcPortBase?: number;
}

/** One measured step; CPU in % of one core over the window, memory in bytes. */
export interface StepMeasure {
  n: number;
  seconds: number;
  /** Per SFU worker, per node process (mediasoup's Node side), per generator process. */
  workerCpu: number[];
  nodeCpu: number[];
  generatorCpu: number[];
  /** The whole machine's busy time, all cores (200 = both cores of a 2-core machine full). */
  machineCpu: number;
  workerRss: number;
  nodeRss: number;
  generatorRss: number;
  /** Every consultation, from mediasoup's counters (%): lost before the producers, and overall (sent → forwarded). */
  ingressLossPct: number;
  sfuLossPct: number;
  /** The sampled consultations, end to end at their receivers (%). */
  sampled: number;
  sampledLossPct: number;
  delayP50: number;
  delayP99: number;
  checked: number;
  badTags: number;
  silentStreams: number;
  /** What the generators sent (payload + RTP headers, bit/s) and the send errors they saw. */
  sentBps: number;
  sendErrors: number;
}

// The sink binds, prints its port, then blocks its own event loop for good (Atomics.wait), so libuv never reads the
// socket; it wakes once a second only to exit when its parent is gone (reparented), so a killed bench leaves nothing.
const SINK = `const s=require('node:dgram').createSocket('udp4');const p=process.ppid;s.bind(0,'127.0.0.1',()=>{process.stdout.write(s.address().port+'\\n',()=>{const a=new Int32Array(new SharedArrayBuffer(4));for(;;){Atomics.wait(a,0,0,1000);if(process.ppid!==p)process.exit(0)}})})`;
const DRAIN_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export class SfuCluster {
  private count = 0;
  private sampledCount = 0;
  private workerPids: number[] = [];

  private constructor(
    private readonly o: ClusterOptions,
    private readonly nodes: BenchChild<NodeReq>[],
    private readonly gens: BenchChild<GenReq>[],
    private readonly sink: ChildProcess,
    private readonly sinkPort: number,
  ) {}

  /** Starts every process; throws if one cannot start. */
  static async create(o: ClusterOptions): Promise<SfuCluster> {
    const base = o.rtcPortBase ?? 40000;
    const sink = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });
    const sinkPort = await new Promise<number>((resolve, reject) => {
      sink.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      sink.once('exit', () => reject(new Error('sink process exited')));
    });
    const nodes = Array.from({ length: o.nodes }, (_, k) => new BenchChild<NodeReq>(new URL('./sfu-node.ts', import.meta.url), [String(o.workersPerNode), String(base + 5000 * k), String(base + 5000 * k + 4999)]));
    const gens = Array.from({ length: o.generators }, (_, k) => new BenchChild<GenReq>(new URL('./sfu-generator.ts', import.meta.url), [String(k)]));
    const c = new SfuCluster(o, nodes, gens, sink, sinkPort);
    await Promise.all([...nodes, ...gens].map((x) => x.ready));
    c.workerPids = (await Promise.all(nodes.map((x) => x.request<number[]>({ op: 'pids' })))).flat();
    return c;
  }

  /** Resident memory of every SFU worker together (bytes). */
  workerRss(): number {
    return sum(this.workerPids.map(rssBytes));
  }

  get consultations(): number {
    return this.count;
  }

  /** Adds one consultation: two participants sending to each other through one node's Router. */
  async addConsultation(): Promise<void> {
    const c = this.count++;
    const node = this.nodes[c % this.nodes.length]!;
    const gen = this.gens[c % this.gens.length]!;
    const sampled = c < 2 || c % this.o.sampleEvery === 0;
    if (sampled) this.sampledCount++;
    const opened = await gen.request<Opened>({ op: 'open', id: c, sampled });
    const recvPorts = opened.recvPorts ?? [this.sinkPort, this.sinkPort];
    const wiring = await node.request<AddedConsultation>({ op: 'add', recvPorts, produce: opened.produce });
    await gen.request({ op: 'start', id: c, wiring });
  }

  /** Pauses the senders, lets the pipeline drain, reads every counter, resumes. */
  private async counters(): Promise<{ sent: SendCounters; sfu: NodeCounters; pausedAt: number; resumedAt: number }> {
    await Promise.all(this.gens.map((g) => g.request({ op: 'pause' })));
    const pausedAt = performance.now();
    await sleep(DRAIN_MS);
    const sentList = await Promise.all(this.gens.map((g) => g.request<SendCounters>({ op: 'counters' })));
    const sfuList = await Promise.all(this.nodes.map((x) => x.request<NodeCounters>({ op: 'stats' })));
    await Promise.all(this.gens.map((g) => g.request({ op: 'resume' })));
    const resumedAt = performance.now();
    const add = <T extends object>(xs: T[]) => Object.fromEntries(Object.keys(xs[0]!).map((k) => [k, sum(xs.map((x) => (x as Record<string, number>)[k]!))])) as T;
    return { sent: add(sentList), sfu: add(sfuList), pausedAt, resumedAt };
  }

  /** Measures `seconds` of steady load at the current size (after the caller's warm-up). */
  async measure(seconds: number): Promise<StepMeasure> {
    const before = await this.counters();
    const nodePids = this.nodes.map((x) => x.pid);
    const genPids = this.gens.map((x) => x.pid);
    const meter = new CpuMeter(() => [...this.workerPids, ...nodePids, ...genPids]);
    await Promise.all(this.gens.map((g) => g.request({ op: 'window-start' })));
    meter.start();
    const busy0 = machineBusyMs();
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const cpu = meter.percent();
    const machineCpu = (100 * (machineBusyMs() - busy0)) / (performance.now() - t0);
    const e2e = await Promise.all(this.gens.map((g) => g.request<E2eWindow>({ op: 'window-end' })));
    const after = await this.counters();
    const sent = after.sent.packets - before.sent.packets;
    const produced = after.sfu.producerPackets - before.sfu.producerPackets;
    const forwarded = after.sfu.consumerPackets - before.sfu.consumerPackets;
    const expected = sum(e2e.map((w) => w.expected));
    const delays = e2e.flatMap((w) => w.delays);
    const pct = (x: number, of: number) => (of > 0 ? (100 * Math.max(0, of - x)) / of : NaN);
    return {
      n: this.count,
      seconds,
      workerCpu: this.workerPids.map((p) => cpu.get(p)!),
      nodeCpu: nodePids.map((p) => cpu.get(p)!),
      generatorCpu: genPids.map((p) => cpu.get(p)!),
      machineCpu,
      workerRss: sum(this.workerPids.map(rssBytes)),
      nodeRss: sum(nodePids.map(rssBytes)),
      generatorRss: sum(genPids.map(rssBytes)),
      ingressLossPct: pct(produced, sent),
      sfuLossPct: pct(forwarded, sent),
      sampled: this.sampledCount,
      sampledLossPct: pct(sum(e2e.map((w) => w.received)), expected),
      delayP50: quantile(delays, 0.5),
      delayP99: quantile(delays, 0.99),
      checked: sum(e2e.map((w) => w.checked)),
      badTags: sum(e2e.map((w) => w.badTags)),
      silentStreams: sum(e2e.map((w) => w.silentStreams)),
      sentBps: ((after.sent.bytes - before.sent.bytes) * 8 * 1000) / (after.pausedAt - before.resumedAt),
      sendErrors: after.sent.errors - before.sent.errors,
    };
  }

  /** Closes every process this cluster started (the blocked sink by SIGKILL). */
  async close(): Promise<void> {
    await Promise.all([...this.gens, ...this.nodes].map((x) => x.close()));
    this.sink.kill('SIGKILL');
  }
}
