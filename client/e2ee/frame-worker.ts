// The one Worker that does all frame work of a page: every outgoing encoded
// frame is SFrame-encrypted, every incoming one authenticated and decrypted.
// Anything that fails is dropped, never passed on in the clear.
import { SFrameError, decodeHeader } from '../../shared/crypto/sframe.ts';
import { SUITE } from '../../shared/crypto/media-suite.ts';
import { SFrameSender } from '../../shared/crypto/sframe-sender.ts';
import { SFrameReceiver } from '../../shared/crypto/sframe-receiver.ts';
import { protectFrame, sframeOf, unprotectFrame, type FrameKind } from '../../shared/crypto/media-frame.ts';
import { emptyReceiverStats, type E2eeStats, type FromWorker, type ReceiverStats, type StreamOptions, type ToWorker } from './worker-messages.ts';

// Minimal worker-side typings (the project compiles against the DOM lib).
interface EncodedFrame {
  data: ArrayBuffer;
  type?: 'key' | 'delta' | 'empty';
}
interface ScriptTransformer {
  readable: ReadableStream;
  writable: WritableStream;
  options: StreamOptions;
  generateKeyFrame?: () => Promise<unknown>;
}
interface WorkerScope {
  postMessage(m: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  onrtctransform: ((e: { transformer: ScriptTransformer }) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;


const sender = new SFrameSender(SUITE);
const receiver = new SFrameReceiver(SUITE);
/** Which participant each receive KID belongs to (from authenticated key exchange). */
const kidOwner = new Map<bigint, string>();
/** Video sender transformers, to ask the encoder for a keyframe when the key changes. */
const videoSenders = new Set<ScriptTransformer>();
/** Past this CTR the KID's counter would need a third byte; ask for a ratchet. */
const COUNTER_HIGH = 0xf000n;
let counterHighSent: bigint | undefined;

const stats: E2eeStats = {
  sender: { kid: undefined, encrypted: 0, keyFramesEncrypted: 0, droppedNoKey: 0, failed: 0 },
  receivers: {},
};

function receiverStats(peerId: string): ReceiverStats {
  return (stats.receivers[peerId] ??= emptyReceiverStats());
}

function exactBuffer(u: Uint8Array): ArrayBuffer {
  return u.byteOffset === 0 && u.byteLength === u.buffer.byteLength
    ? (u.buffer as ArrayBuffer)
    : (u.slice().buffer as ArrayBuffer);
}

async function encryptFrame(kind: FrameKind, frame: EncodedFrame): Promise<boolean> {
  if (!sender.hasKey) {
    stats.sender.droppedNoKey++;
    return false;
  }
  try {
    frame.data = exactBuffer(await protectFrame(sender, kind, new Uint8Array(frame.data)));
  } catch (err) {
    if (err instanceof SFrameError && err.code === 'no-key') stats.sender.droppedNoKey++;
    else stats.sender.failed++;
    return false;
  }
  stats.sender.encrypted++;
  if (frame.type === 'key') stats.sender.keyFramesEncrypted++;
  if ((sender.nextCounter ?? 0n) >= COUNTER_HIGH && counterHighSent !== sender.kid && sender.kid !== undefined) {
    counterHighSent = sender.kid;
    scope.postMessage({ type: 'counterHigh', kid: sender.kid });
  }
  return true;
}

async function decryptFrame(kind: FrameKind, peerId: string, frame: EncodedFrame): Promise<boolean> {
  const s = receiverStats(peerId);
  const data = new Uint8Array(frame.data);
  try {
    // The key must belong to the participant this stream is attributed to:
    // a relay must not be able to show one participant's media as another's.
    const { kid } = decodeHeader(sframeOf(kind, data).sframe);
    const owner = kidOwner.get(kid);
    if (owner === undefined || !receiver.hasKey(kid)) {
      s.droppedNoKey++;
      s.droppedSinceOk++;
      return false;
    }
    if (owner !== peerId) {
      s.wrongSender++;
      s.droppedSinceOk++;
      return false;
    }
    const out = await unprotectFrame(receiver, kind, data);
    frame.data = exactBuffer(out.frame);
    s.decrypted++;
    if (s.lastKid !== out.kid) scope.postMessage({ type: 'kidSeen', peerId, kid: out.kid });
    s.lastKid = out.kid;
    if (s.droppedSinceOk > 0 && kind === 'video') scope.postMessage({ type: 'recovered', peerId });
    s.droppedSinceOk = 0;
    return true;
  } catch (err) {
    s.droppedSinceOk++;
    const code = err instanceof SFrameError ? err.code : 'auth';
    if (code === 'unknown-kid') s.droppedNoKey++;
    else if (code === 'replay') s.replayed++;
    else if (code === 'malformed') s.malformed++;
    else s.failedAuth++;
    return false;
  }
}

function transform(options: StreamOptions): TransformStream<EncodedFrame, EncodedFrame> {
  // Bench build only: the pass-through baseline, same streams and Worker, no crypto.
  if (__CONFIDE_BENCH__ && options.benchPassThrough) {
    return new TransformStream({ transform: (frame, controller) => controller.enqueue(frame) });
  }
  const { role, kind } = options;
  const peerId = options.peerId ?? '';
  return new TransformStream({
    async transform(frame, controller) {
      const ok = role === 'send' ? await encryptFrame(kind, frame) : await decryptFrame(kind, peerId, frame);
      if (ok) controller.enqueue(frame);
    },
  });
}

function pipe(options: StreamOptions, readable: ReadableStream, writable: WritableStream): Promise<void> {
  return readable
    .pipeThrough(transform(options))
    .pipeTo(writable)
    .catch((err: unknown) => scope.postMessage({ type: 'error', message: `stream closed: ${String(err)}` }));
}

// RTCRtpScriptTransform path (standard).
scope.onrtctransform = (event) => {
  const t = event.transformer;
  if (t.options.role === 'send' && t.options.kind === 'video') videoSenders.add(t);
  // A sender rebuilt after a media reset gets a new transformer; forget the old one.
  void pipe(t.options, t.readable, t.writable).finally(() => videoSenders.delete(t));
};

// Key changes apply in arrival order even though importing a key is async.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = ({ data: msg }) => {
  queue = queue.then(() => handle(msg)).catch((err: unknown) => {
    scope.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  });
};

/** Runs a key installation, wipes the key bytes, and tells the page it is done. */
async function settle(id: number, key: Uint8Array, install: () => Promise<void>): Promise<boolean> {
  try {
    await install();
    scope.postMessage({ type: 'done', id });
    return true;
  } catch (err) {
    scope.postMessage({ type: 'done', id, error: err instanceof Error ? err.message : String(err) });
    return false;
  } finally {
    key.fill(0);
  }
}

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'setSenderKey':
      if (!(await settle(msg.id, msg.key, () => sender.setKey(msg.kid, msg.key)))) return;
      stats.sender.kid = sender.kid;
      // A receiver that may lack the new key catches up on a keyframe.
      if (msg.keyFrame) for (const t of videoSenders) t.generateKeyFrame?.().catch(() => undefined);
      break;
    case 'addReceiverKey':
      // Owner first: frames under this KID are attributed the moment the key works.
      kidOwner.set(msg.kid, msg.peerId);
      await settle(msg.id, msg.key, () => receiver.addKey(msg.kid, msg.key));
      break;
    case 'removeReceiverKey':
      receiver.removeKey(msg.kid);
      kidOwner.delete(msg.kid);
      break;
    case 'attachStreams': // createEncodedStreams fallback path
      void pipe(msg.options, msg.readable, msg.writable);
      break;
    case 'stats':
      scope.postMessage({ type: 'stats', id: msg.id, stats: structuredClone(stats) });
      break;
  }
}
