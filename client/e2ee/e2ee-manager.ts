// Page side of end-to-end encryption: owns the frame Worker, attaches it to
// every RTCRtpSender/Receiver of the call (FrameTransformer) and forwards keys
// to it (KeySink, which key agreement drives). Both transports run with
// encodedInsertableStreams, so Chromium holds every frame until a transform
// consumes it: a stream this class failed to attach sends and renders
// nothing, never cleartext. Firefox and Safari have no such setting: there a
// sender gets its transform the moment it exists, before the SFU knows its
// producer (MediaTransports), so the SFU drops anything sent before.
import type { FrameTransformer, ReceiverInfo, SenderInfo } from '../call/frame-transformer.ts';
import type { KeySink } from '../../shared/e2ee/key-agreement.ts';
import type { E2eeStats, FromWorker, StreamOptions, ToWorker } from './worker-messages.ts';
import { frameEncryptionApi } from './support.ts';

interface EncodedStreams {
  readable: ReadableStream;
  writable: WritableStream;
}
type WithEncodedStreams = { createEncodedStreams?: () => EncodedStreams };

export class E2eeManager implements FrameTransformer, KeySink {
  readonly peerConnectionSettings = { encodedInsertableStreams: true };
  private worker: Worker;
  private nextStatsId = 1;
  private readonly pendingStats = new Map<number, (s: E2eeStats) => void>();
  private nextKeyOp = 1;
  private readonly keyOps = new Map<number, (error?: string) => void>();
  /** Last error the worker reported (shown in the debug panel). */
  lastError: string | undefined;
  /** Key-schedule events from the Worker (see FromWorker). */
  onKidSeen: ((peerId: string, kid: bigint) => void) | undefined;
  onCounterHigh: (() => void) | undefined;
  onRecovered: ((peerId: string) => void) | undefined;

  /**
   * `bench.benchPassThrough` (bench build only, `__CONFIDE_BENCH__`): every
   * transform is attached as usual but tells the Worker to pass frames
   * through unchanged, the pass-through baseline of `npm run bench`.
   */
  constructor(private readonly bench: { benchPassThrough?: true } = {}) {
    this.worker = this.startWorker();
  }

  /**
   * A fresh Worker for a full rejoin (new member, new keys): no key, KID
   * owner or counter of the old membership survives. Pending key operations
   * are rejected; streams still attached to the old Worker stop (their
   * transports are closed by then).
   */
  reset(): void {
    this.worker.terminate();
    for (const done of this.keyOps.values()) done('reset');
    this.keyOps.clear();
    this.pendingStats.clear();
    this.lastError = undefined;
    this.worker = this.startWorker();
  }

  private startWorker(): Worker {
    const worker = new Worker(new URL('./frame-worker.ts', import.meta.url), { type: 'module', name: 'confide-e2ee' });
    worker.onmessage = ({ data }: MessageEvent<FromWorker>) => {
      if (worker !== this.worker) return;
      if (data.type === 'stats') {
        this.pendingStats.get(data.id)?.(data.stats);
        this.pendingStats.delete(data.id);
      } else if (data.type === 'done') {
        this.keyOps.get(data.id)?.(data.error);
        this.keyOps.delete(data.id);
      } else if (data.type === 'kidSeen') {
        this.onKidSeen?.(data.peerId, data.kid);
      } else if (data.type === 'counterHigh') {
        this.onCounterHigh?.();
      } else if (data.type === 'recovered') {
        this.onRecovered?.(data.peerId);
      } else {
        this.lastError = data.message;
      }
    };
    return worker;
  }

  attachSender(sender: RTCRtpSender, info: SenderInfo): void {
    this.attach(sender, { role: 'send', kind: info.kind });
  }

  attachReceiver(receiver: RTCRtpReceiver, info: ReceiverInfo): void {
    this.attach(receiver, { role: 'recv', kind: info.kind, peerId: info.peerId });
  }

  // Keys are copied and the copy's buffer transferred: no second copy lingers in the page.
  setLocalKey(kid: bigint, baseKey: Uint8Array, opts: { keyFrame: boolean } = { keyFrame: false }): Promise<void> {
    const key = baseKey.slice();
    return this.keyOp((id) => this.post({ type: 'setSenderKey', id, kid, key, keyFrame: opts.keyFrame }, [key.buffer]));
  }


  /** Resolves once the Worker can decrypt under `kid` (key agreement acknowledges only then). */
  addRemoteKey(peerId: string, kid: bigint, baseKey: Uint8Array): Promise<void> {
    const key = baseKey.slice();
    return this.keyOp((id) => this.post({ type: 'addReceiverKey', id, peerId, kid, key }, [key.buffer]));
  }

  removeRemoteKey(kid: bigint): void {
    this.post({ type: 'removeReceiverKey', kid });
  }

  stats(): Promise<E2eeStats> {
    const id = this.nextStatsId++;
    return new Promise((resolve) => {
      this.pendingStats.set(id, resolve);
      this.post({ type: 'stats', id });
    });
  }

  close(): void {
    this.worker.terminate();
  }

  /** Throws when the browser has no frame-encryption API (the UI refuses such browsers before this). */
  private attach(endpoint: RTCRtpSender | RTCRtpReceiver, streamOptions: StreamOptions): void {
    const options = __CONFIDE_BENCH__ && this.bench.benchPassThrough ? { ...streamOptions, benchPassThrough: true as const } : streamOptions;
    const api = frameEncryptionApi();
    if (api === 'script-transform') {
      endpoint.transform = new RTCRtpScriptTransform(this.worker, options);
      return;
    }
    const streams = api === 'encoded-streams' ? (endpoint as unknown as WithEncodedStreams).createEncodedStreams?.() : undefined;
    if (!streams) throw new Error('this browser cannot encrypt media end to end');
    this.post({ type: 'attachStreams', options, ...streams }, [streams.readable, streams.writable]);
  }

  private keyOp(send: (id: number) => void): Promise<void> {
    const id = this.nextKeyOp++;
    const done = new Promise<void>((resolve, reject) =>
      this.keyOps.set(id, (error) => (error ? reject(new Error(error)) : resolve())),
    );
    send(id);
    return done;
  }

  private post(msg: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(msg, transfer);
  }
}
