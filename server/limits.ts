// Every bound the server puts on what clients may hold or send (issue 12):
// connections, time to authenticate, HTTP timeouts, request budgets, the
// chat relay's back-pressure and socket.io's recovery buffer. One place, with
// the reasons; startConfide takes overrides (tests use short ones, in code).

export interface Limits {
  http: {
    /** Whole request headers must arrive within this (ms); a partial request is closed. */
    headersTimeoutMs: number;
    /** The whole request (headers and body) must arrive within this (ms): no trickled bodies. */
    requestTimeoutMs: number;
    /** A connection silent this long is closed (ms). */
    idleTimeoutMs: number;
    /** How often node checks the two timeouts above (ms). */
    checkEveryMs: number;
  };
  sockets: {
    /** Open signalling connections per client address (CONFIDE_MAX_SOCKETS_PER_IP). */
    perIp: number;
    /** Open signalling connections, server-wide. */
    total: number;
    /** Open signalling connections per staff account. */
    perAccount: number;
    /** A connection that holds no place (in a call or the waiting room) this long is closed (ms). */
    idleMs: number;
  };
  requests: {
    /** Per connection: burst, then per second (every event counts, known or not). */
    perConnection: { burst: number; perSecond: number };
    /** Shared by all connections of one account, one consultation's waiting room, one patient's place in a call, or one address before any of these. */
    perPrincipal: { burst: number; perSecond: number };
    /** enterWaitingRoom per consultation (its link): burst, then per second. */
    waitingRoomEntries: { burst: number; perSecond: number };
    /** A producer is asked for a keyframe at most once per this (ms), however many consumers ask. */
    keyFrameEveryMs: number;
  };
  chat: {
    /** A receiver with more than this waiting to be written (bytes) is skipped for new chunks. */
    receiverBacklogBytes: number;
    /** A receiver behind by more than this (bytes), or skipped for longer than `stalledMs`, is disconnected. */
    receiverDropBytes: number;
    stalledMs: number;
  };
  /** socket.io's connection-state-recovery buffer (packets kept for reconnecting clients), bytes. */
  recoveryBufferBytes: number;
  /**
   * Several nodes (CONFIDE_REDIS_URL): the recovery buffer is the Redis
   * stream every node's packets go through, trimmed to about this many
   * entries (packets of the whole cluster, not bytes; server/cluster/socket-adapter.ts).
   */
  recoveryStreamEntries: number;
}

export const DEFAULT_LIMITS: Limits = {
  http: { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, idleTimeoutMs: 120_000, checkEveryMs: 1_000 },
  // A clinic behind one NAT has a handful of staff and patients: 32 is ample; 3000 from one address is not.
  sockets: { perIp: 32, total: 2_000, perAccount: 8, idleMs: 30_000 },
  requests: {
    perConnection: { burst: 100, perSecond: 50 },
    perPrincipal: { burst: 150, perSecond: 75 },
    waitingRoomEntries: { burst: 10, perSecond: 1 / 6 },
    keyFrameEveryMs: 500,
  },
  // A chat chunk is ≤ 65 KiB; a healthy receiver drains in milliseconds.
  chat: { receiverBacklogBytes: 1024 * 1024, receiverDropBytes: 4 * 1024 * 1024, stalledMs: 10_000 },
  recoveryBufferBytes: 32 * 1024 * 1024,
  // socket.io's own default; ≈ 200 packets/s across the cluster for the 50 s recovery window.
  recoveryStreamEntries: 10_000,
};

/** DEFAULT_LIMITS with `over` laid on top, one level deep per section. */
export function limitsWith(over: DeepPartial<Limits> = {}): Limits {
  const out = structuredClone(DEFAULT_LIMITS) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(over)) {
    const base = out[k];
    out[k] = v !== null && typeof v === 'object' && base !== null && typeof base === 'object' ? { ...base, ...v } : v;
  }
  return out as unknown as Limits;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
