/**
 * SFrame benchmark: encrypt+decrypt per frame through exactly the code the
 * media Worker runs (protectFrame/unprotectFrame over SFrameSender/Receiver), once with the
 * WebCrypto backend (what the Worker uses) and once with the noble backend
 * (the pure-JS reference/fallback), next to node:crypto AES-GCM (OpenSSL,
 * AES-NI) doing the same AEAD work as a reference. node:crypto is used here
 * only, never in shared/.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { nobleAesGcm, webCryptoAesGcm } from '../shared/crypto/aead.ts';
import type { AesGcmBackend } from '../shared/crypto/aead.ts';
import { AES_128_GCM_SHA256_128, AES_256_GCM_SHA512_128, encodeHeader, suiteParams } from '../shared/crypto/sframe.ts';
import { SFrameReceiver } from '../shared/crypto/sframe-receiver.ts';
import { SFrameSender } from '../shared/crypto/sframe-sender.ts';
import { protectFrame, unprotectFrame, type FrameKind } from '../shared/crypto/media-frame.ts';

// Realistic header for the app: KID in one byte (sender index + key
// generation, >= 8 so it takes the extended byte), CTR in two bytes (the app
// rolls to a new key generation before CTR needs a third byte). Each case
// starts at 0x8000 and stays below 0x10000 for all its iterations.
const KID = 0xa3n;
const CTR_START = 0x8000n;
const CTR_2B_LIMIT = 0x10000n;

const FRAMES = [
  { label: 'audio 100 B', bytes: 100, iters: 20_000, targetMs: undefined, video: false },
  { label: 'video delta 6 KB', bytes: 6 * 1024, iters: 3_000, targetMs: 0.15, video: true },
  { label: 'video key 100 KB', bytes: 100 * 1024, iters: 300, targetMs: 2, video: true },
] as const;
const SUITES = [AES_128_GCM_SHA256_128, AES_256_GCM_SHA512_128] as const;
const BACKENDS = [webCryptoAesGcm, nobleAesGcm] as const;
const MAX_VIDEO_OVERHEAD = 20;

export type Stat = { medianMs: number; p95Ms: number };

export type SframeRow = {
  frame: string;
  bytes: number;
  suite: number;
  iters: number;
  webcrypto: Stat;
  noble: Stat;
  node: Stat;
  overheadBytes: number; // largest header+tag seen on the measured frames
  targetMs: number | undefined;
  webcryptoMet: boolean | undefined;
  nobleMet: boolean | undefined;
  overheadMet: boolean | undefined;
};

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

function stat(sorted: number[]): Stat {
  return { medianMs: quantile(sorted, 0.5), p95Ms: quantile(sorted, 0.95) };
}

function warmups(iters: number): number {
  return Math.max(50, iters >> 3);
}

/** Times async `fn` per call (each awaited before the next) after a warm-up; sorted ms. */
async function timeAsync(iters: number, fn: () => Promise<void>): Promise<number[]> {
  for (let i = 0, n = warmups(iters); i < n; i++) await fn();
  const out = new Array<number>(iters);
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await fn();
    out[i] = performance.now() - t0;
  }
  return out.sort((a, b) => a - b);
}

/** Same for a synchronous `fn` (node:crypto), so the reference pays no await. */
function timeSync(iters: number, fn: () => void): number[] {
  for (let i = 0, n = warmups(iters); i < n; i++) fn();
  const out = new Array<number>(iters);
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    fn();
    out[i] = performance.now() - t0;
  }
  return out.sort((a, b) => a - b);
}

function filled(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

type RoundTrip = { run: () => Promise<void>; maxOverhead: () => number };

async function oursRoundTrip(
  backend: AesGcmBackend,
  suite: number,
  pt: Uint8Array,
  kind: FrameKind
): Promise<RoundTrip> {
  const baseKey = filled(16, 1);
  const tx = new SFrameSender(suite, backend);
  const rx = new SFrameReceiver(suite, backend);
  await tx.setKey(KID, baseKey, { startCounter: CTR_START });
  await rx.addKey(KID, baseKey);
  let maxOverhead = 0;
  return {
    run: async () => {
      const frame = await protectFrame(tx, kind, pt);
      maxOverhead = Math.max(maxOverhead, frame.length - pt.length);
      const out = await unprotectFrame(rx, kind, frame);
      if (out.frame.length !== pt.length) throw new Error('bench: round trip mismatch');
    },
    maxOverhead: () => maxOverhead,
  };
}

// Same AEAD work as ours: AES-GCM with the SFrame header as AAD, 12-byte nonce, 16-byte tag.
function nodeRoundTrip(suite: number, pt: Uint8Array): () => void {
  const { Nk } = suiteParams(suite);
  const alg = Nk === 16 ? 'aes-128-gcm' : 'aes-256-gcm';
  const key = filled(Nk, 2);
  const nonce = filled(12, 3);
  const aad = encodeHeader(KID, CTR_START);
  return () => {
    const c = createCipheriv(alg, key, nonce);
    c.setAAD(aad);
    const ct = Buffer.concat([c.update(pt), c.final()]);
    const tag = c.getAuthTag();
    const d = createDecipheriv(alg, key, nonce);
    d.setAAD(aad);
    d.setAuthTag(tag);
    const back = Buffer.concat([d.update(ct), d.final()]);
    if (back.length !== pt.length) throw new Error('bench: node round trip mismatch');
  };
}

const breathe = () => new Promise((r) => setTimeout(r, 0)); // let the event loop/GC breathe between cases

/** Runs every (frame size, suite) case with both backends and node:crypto; returns the measured rows. */
export async function benchSframe(): Promise<SframeRow[]> {
  const rows: SframeRow[] = [];
  // Global warm-up so the first measured case doesn't pay JIT tier-up for all the others.
  for (const backend of BACKENDS) {
    for (const suite of SUITES) {
      for (const f of FRAMES) {
        const rt = await oursRoundTrip(backend, suite, filled(f.bytes, 4), f.video ? 'video' : 'audio');
        await timeAsync(Math.max(20, f.iters >> 4), rt.run);
      }
    }
  }
  for (const f of FRAMES) {
    for (const suite of SUITES) {
      const pt = filled(f.bytes, 4);
      const measured = new Map<AesGcmBackend, Stat>();
      let overheadBytes = 0;
      for (const backend of BACKENDS) {
        const rt = await oursRoundTrip(backend, suite, pt, f.video ? 'video' : 'audio');
        measured.set(backend, stat(await timeAsync(f.iters, rt.run)));
        overheadBytes = Math.max(overheadBytes, rt.maxOverhead());
        await breathe();
      }
      const node = stat(timeSync(f.iters, nodeRoundTrip(suite, pt)));
      const webcrypto = measured.get(webCryptoAesGcm)!;
      const noble = measured.get(nobleAesGcm)!;
      const met = (s: Stat) => (f.targetMs === undefined ? undefined : s.medianMs <= f.targetMs);
      rows.push({
        frame: f.label,
        bytes: f.bytes,
        suite,
        iters: f.iters,
        webcrypto,
        noble,
        node,
        overheadBytes,
        targetMs: f.targetMs,
        webcryptoMet: met(webcrypto),
        nobleMet: met(noble),
        overheadMet: f.video ? overheadBytes <= MAX_VIDEO_OVERHEAD : undefined,
      });
      await breathe();
    }
  }
  return rows;
}

function table(head: string[], body: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(w[i] ?? 0)).join(' | ') + ' |';
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...body.map(line)].join('\n');
}

const ms = (x: number) => x.toFixed(4);
const met = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? ' ✓' : ' ✗');
const suiteName = (s: number) => (s === AES_128_GCM_SHA256_128 ? '0x0004 AES-128-GCM' : '0x0005 AES-256-GCM');

/** Prints the measured rows plus a header-overhead table for a few KID/CTR choices. */
export function printSframe(rows: SframeRow[]): void {
  const lastCtr = CTR_START + BigInt(Math.max(...FRAMES.map((f) => f.iters + warmups(f.iters)))) - 1n;
  console.log(
    `encrypt+decrypt per frame (awaited one after the other), protectFrame → unprotectFrame (the Worker's code) with the\n` +
      `WebCrypto backend (what the browser Worker runs) and the @noble/ciphers backend, vs node:crypto AES-GCM\n` +
      `(same AEAD work, no SFrame code). KID=0x${KID.toString(16)} (1 B), CTR 0x${CTR_START.toString(16)}..0x${lastCtr.toString(16)} (2 B), ` +
      `video keeps its 1 clear VP8 byte as metadata, audio none. Overhead = bytes added per frame. ✓/✗: median within target.\n`
  );
  if (lastCtr >= CTR_2B_LIMIT) throw new Error('bench: CTR would need a third byte; lower CTR_START');
  console.log(
    table(
      [
        'frame',
        'suite',
        'iters',
        'webcrypto median ms',
        'webcrypto p95 ms',
        'noble median ms',
        'noble p95 ms',
        'node:crypto median ms',
        'node:crypto p95 ms',
        'webcrypto/node',
        'noble/node',
        'target ms',
        'overhead B (≤20 video)',
      ],
      rows.map((r) => [
        r.frame,
        suiteName(r.suite),
        String(r.iters),
        ms(r.webcrypto.medianMs) + met(r.webcryptoMet),
        ms(r.webcrypto.p95Ms),
        ms(r.noble.medianMs) + met(r.nobleMet),
        ms(r.noble.p95Ms),
        ms(r.node.medianMs),
        ms(r.node.p95Ms),
        (r.webcrypto.medianMs / r.node.medianMs).toFixed(1) + '×',
        (r.noble.medianMs / r.node.medianMs).toFixed(1) + '×',
        r.targetMs === undefined ? '—' : '≤ ' + r.targetMs,
        String(r.overheadBytes) + met(r.overheadMet),
      ])
    )
  );
  // Overhead depends only on KID/CTR sizes (+16 B tag); shows what meets ≤ 20 B.
  const cases: [string, bigint, bigint][] = [
    ['app: KID < 256, CTR < 65536 (worst: 0xff, 0xffff)', 0xffn, 0xffffn],
    ['KID < 8, CTR < 8', 3n, 5n],
    ['KID < 256, CTR < 256', 0xa3n, 200n],
    ['KID < 256, CTR 1 h @ 30 fps', 0xa3n, 30n * 3600n],
    ['KID 2^20, CTR 1 h @ 30 fps', 1n << 20n, 30n * 3600n],
    ['KID 2^20, CTR 24 h @ 80 fps', 1n << 20n, 80n * 86_400n],
  ];
  console.log('\nper-frame overhead = header (config byte + KID bytes + CTR bytes) + 16 B tag:\n');
  console.log(
    table(
      ['case', 'KID B', 'CTR B', 'header B', 'overhead B', '≤ 20 B'],
      cases.map(([name, kid, ctr]) => {
        const hdr = encodeHeader(kid, ctr).length;
        const extBytes = (x: bigint) => (x < 8n ? 0 : Math.ceil(x.toString(16).length / 2));
        return [name, String(extBytes(kid)), String(extBytes(ctr)), String(hdr), String(hdr + 16), hdr + 16 <= MAX_VIDEO_OVERHEAD ? 'yes' : 'no'];
      })
    )
  );
  console.log(
    '\nCTR < 65536 per key generation lasts 65536 frames: ~36 min of 30 fps video alone, ~13.6 min at 80 fps\n' +
      '(30 fps video + 50 fps audio through one sender); roll the key generation before that.'
  );
}
