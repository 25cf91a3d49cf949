// socket.io's connection state recovery keeps every notification it sends in
// memory (SessionAwareAdapter.packets), so a client that reconnects within the
// window gets what it missed. Stock, that store is pruned by age only once a
// minute and has no size bound: two chat senders relaying 64 KiB chunks grew
// it by hundreds of MB (issue 12, item 7). This adapter prunes by age every
// few seconds and keeps at most `maxBytes` (an estimate of the payloads):
// past that the oldest packets go, and a client whose last packet went can no
// longer resume — it rejoins in full (docs/protocol.md, Reconnection).
import { SessionAwareAdapter } from 'socket.io-adapter';
import type { Namespace } from 'socket.io';

/** Rough size of a packet payload (bytes): binary lengths, string lengths, a little per value. Bounded walk. */
export function approxBytes(value: unknown, depth = 0): number {
  if (value === null || value === undefined) return 4;
  if (typeof value === 'string') return value.length;
  if (typeof value === 'number' || typeof value === 'boolean') return 8;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (depth > 6) return 64;
  let n = 16;
  if (Array.isArray(value)) for (const v of value) n += approxBytes(v, depth + 1);
  else if (typeof value === 'object') for (const [k, v] of Object.entries(value)) n += k.length + approxBytes(v, depth + 1);
  return n;
}

interface StoredPacket {
  id: string;
  emittedAt: number;
  data: unknown[];
  bytes?: number;
}

/** The adapter's packet store, which SessionAwareAdapter keeps private. */
type WithPackets = { packets: StoredPacket[]; maxDisconnectionDuration: number };

/** A SessionAwareAdapter class whose recovery store holds at most `maxBytes`, pruned every `pruneEveryMs`. */
export function boundedRecoveryAdapter(maxBytes: number, pruneEveryMs = 5_000) {
  return class BoundedSessionAdapter extends SessionAwareAdapter {
    private bytes = 0;
    private readonly timer: ReturnType<typeof setInterval>;

    constructor(nsp: Namespace) {
      super(nsp as never);
      this.timer = setInterval(() => this.prune(), pruneEveryMs);
      this.timer.unref();
    }

    override broadcast(...args: Parameters<SessionAwareAdapter['broadcast']>): void {
      const store = (this as unknown as WithPackets).packets;
      const before = store.length;
      super.broadcast(...args);
      for (let i = before; i < store.length; i++) {
        const p = store[i]!;
        p.bytes = approxBytes(p.data);
        this.bytes += p.bytes;
      }
      if (this.bytes > maxBytes) this.prune();
    }

    override close(): void {
      clearInterval(this.timer);
      super.close();
    }

    /** Bytes held for recovery now (tests, ops). */
    get heldBytes(): number {
      return this.bytes;
    }

    private prune(): void {
      const self = this as unknown as WithPackets;
      const threshold = Date.now() - self.maxDisconnectionDuration;
      let drop = 0;
      let freed = 0;
      for (const p of self.packets) {
        if (p.emittedAt >= threshold && this.bytes - freed <= maxBytes) break;
        freed += p.bytes ?? 0;
        drop++;
      }
      if (drop > 0) {
        self.packets.splice(0, drop);
        this.bytes -= freed;
      }
    }
  };
}
