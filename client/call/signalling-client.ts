// Typed request/response over socket.io, validated with the shared protocol
// schemas in both directions: the server is not trusted with media, and not
// trusted to send well-formed messages either.
import { io, type Socket } from 'socket.io-client';
import { MAX_REDIRECTS, type Redirect } from '../../shared/protocol/cluster.ts';
import {
  AckEnvelope,
  notifications,
  requests,
  type ErrorCode,
  type NotificationName,
  type NotificationOf,
  type RequestName,
  type RequestOf,
  type ResponseOf,
} from '../../shared/protocol/signalling.ts';

/**
 * A request that failed. `code` is the server's ErrorCode, or the client's
 * own: 'timeout' (no answer in time), 'disconnected' (the connection was down
 * when sending, or dropped before the answer), 'bad-response'.
 */
export class RequestError extends Error {
  constructor(
    readonly code: ErrorCode | 'timeout' | 'bad-response' | 'disconnected',
    message: string,
    /** With code 'elsewhere' (several nodes): where the consultation's room is. */
    readonly redirect?: Redirect,
  ) {
    super(message);
  }
}

/** What happens to the connection (for the connection owner, CallConnection). */
export type ConnectionEvent =
  | { type: 'connect'; recovered: boolean }
  | { type: 'disconnect'; reason: string }
  | { type: 'connect_error' };

const REQUEST_TIMEOUT_MS = 10_000;
/** A connection attempt into a black hole gives up after this long (ms; socket.io's default is 20 s). */
const CONNECT_TIMEOUT_MS = 5_000;
/** How long the home origin may take to answer the probe after a node stopped answering (ms). */
const HOME_PROBE_MS = 2_000;

type Bound = { event: string; listener: (...args: never[]) => void };

/**
 * Typed requests and notifications over one socket.io connection. It never
 * reconnects by itself (`reconnection: false`): CallConnection decides when
 * to try again, so there is one retry policy. A reconnection of the same
 * socket lets socket.io's connection state recovery resume the session.
 *
 * Several nodes (issue 16, docs/protocol.md "Several nodes"): the socket
 * opens at `home` (the page's origin: the clinic's load balancer). A request
 * answered `elsewhere` is sent again on a new socket to the redirect's node
 * (with its staff ticket), at most MAX_REDIRECTS times in a row; the move is
 * invisible to connection listeners. When that node stops answering while
 * home still does (the node died), the next connect() goes home, whose
 * answer leads to the room's new node; a rejoin starts at home (goHome()).
 * On one node, home is the only origin and none of this happens.
 */
export class SignallingClient {
  private current: Socket;
  private url: string;
  private everConnected = false;
  /** Failed connection attempts to the current origin since it last connected. */
  private failedHere = 0;
  /** A probe of home is under way (connect() away from home). */
  private probing = false;
  /** Notification handlers and connection listeners, bound again to each new socket. */
  private readonly bound = new Set<Bound>();

  constructor(private readonly home: string = window.location.origin) {
    this.url = home;
    this.current = this.open(home);
  }

  /** The socket in use now (it changes when a redirect moves us to another node). */
  get socket(): Socket {
    return this.current;
  }

  /** The origin the socket is open to: home, or the node hosting the room. */
  get origin(): string {
    return this.url;
  }

  get connected(): boolean {
    return this.current.connected;
  }

  private open(url: string, ticket?: string): Socket {
    const socket = io(url, {
      path: '/socket.io',
      transports: ['websocket'],
      reconnection: false,
      timeout: CONNECT_TIMEOUT_MS,
      ...(ticket ? { auth: { ticket } } : {}),
    });
    socket.on('connect', () => {
      this.everConnected = true;
      this.failedHere = 0;
    });
    socket.on('connect_error', () => this.failedHere++);
    return socket;
  }

  /**
   * Opens the connection again after a drop (a no-op while connected). Away
   * from home after a failed attempt, it first asks whether home answers: if
   * so the node is gone, and the socket moves home (listeners see the new
   * socket's 'connect', not recovered); if not, our own network is down and
   * the same node is tried again.
   */
  connect(): void {
    if (this.current.connected) return;
    if (this.url === this.home || this.failedHere === 0) {
      this.current.connect();
      return;
    }
    if (this.probing) return; // one probe at a time: its answer decides for both callers
    this.probing = true;
    void this.homeAnswers().then((up) => {
      this.probing = false;
      if (this.current.connected) return;
      if (!up || this.url === this.home) return void this.current.connect();
      this.replace(this.home);
    });
  }

  /** Back to the home origin (before a rejoin: a staff ticket was good for one handshake). Resolves once connected there. */
  async goHome(): Promise<void> {
    if (this.url === this.home) return;
    await this.moveTo(this.home);
  }

  private async homeAnswers(): Promise<boolean> {
    try {
      // no-cors: only whether the origin answers matters; its body is not read.
      await fetch(new URL('/api/health', this.home), { mode: 'no-cors', cache: 'no-store', signal: AbortSignal.timeout(HOME_PROBE_MS) });
      return true;
    } catch {
      return false;
    }
  }

  /** A new socket to `url`, with every handler and listener bound to it, connecting now (listeners see its events). */
  private replace(url: string, ticket?: string): void {
    const old = this.current;
    for (const b of this.bound) old.off(b.event, b.listener as never);
    old.close();
    this.url = url;
    this.failedHere = 0;
    this.current = this.open(url, ticket);
    for (const b of this.bound) this.current.on(b.event, b.listener as never);
  }

  /**
   * Moves to `url` without the connection listeners seeing it (the caller
   * waits for it): resolves once connected, rejects with RequestError
   * 'disconnected' when the node cannot be reached.
   */
  private moveTo(url: string, ticket?: string): Promise<void> {
    const hidden = new Set([...this.bound].filter((b) => CONNECTION_EVENTS.has(b.event)));
    for (const b of hidden) this.bound.delete(b);
    this.replace(url, ticket);
    const socket = this.current;
    const rebind = () => {
      for (const b of hidden) {
        this.bound.add(b);
        if (this.current === socket) socket.on(b.event, b.listener as never);
      }
    };
    return new Promise<void>((resolve, reject) => {
      const connected = () => {
        socket.off('connect_error', failed);
        rebind();
        resolve();
      };
      const failed = () => {
        socket.off('connect', connected);
        rebind();
        // The connection owner must hear of it, or it would wait for an event that never comes.
        for (const b of hidden) if (b.event === 'connect_error') (b.listener as () => void)();
        reject(new RequestError('disconnected', `could not reach ${new URL(url).host}`));
      };
      socket.once('connect', connected);
      socket.once('connect_error', failed);
    });
  }

  private bind(event: string, listener: (...args: never[]) => void): () => void {
    const b: Bound = { event, listener };
    this.bound.add(b);
    this.current.on(event, listener as never);
    return () => {
      this.bound.delete(b);
      this.current.off(event, listener as never);
    };
  }

  /** Subscribes to connection events; returns an unsubscribe function. */
  onConnection(listener: (e: ConnectionEvent) => void): () => void {
    const offs = [
      this.bind('connect', () => listener({ type: 'connect', recovered: this.current.recovered })),
      this.bind('disconnect', (reason: string) => listener({ type: 'disconnect', reason })),
      this.bind('connect_error', () => listener({ type: 'connect_error' })),
    ];
    return () => offs.forEach((off) => off());
  }

  /**
   * Sends a request and validates the answer, following the redirects of
   * several nodes (at most MAX_REDIRECTS in a row). Rejects with
   * RequestError: the server's error code ('elsewhere' after too many
   * redirects), 'disconnected', 'timeout' (10 s) or 'bad-response'.
   */
  async request<N extends RequestName>(name: N, payload: RequestOf<N>): Promise<ResponseOf<N>> {
    for (let redirects = 0; ; redirects++) {
      try {
        return await this.requestHere(name, payload);
      } catch (err) {
        if (!(err instanceof RequestError) || !err.redirect || redirects >= MAX_REDIRECTS) throw err;
        await this.moveTo(err.redirect.url, err.redirect.ticket);
      }
    }
  }

  private async requestHere<N extends RequestName>(name: N, payload: RequestOf<N>): Promise<ResponseOf<N>> {
    // The first connection may still be opening: wait for it. After that,
    // never buffer while down: after a full rejoin the request would reach a
    // session that is not ours any more. Callers retry once reconnected.
    if (!this.current.connected && !this.everConnected) await this.firstConnection(name);
    const socket = this.current;
    if (!socket.connected) throw new RequestError('disconnected', `${name}: not connected`);
    let raw: unknown;
    try {
      raw = await socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck(name, payload);
    } catch {
      if (!socket.connected) throw new RequestError('disconnected', `${name}: connection lost`);
      throw new RequestError('timeout', `${name}: no answer from the server`);
    }
    const envelope = AckEnvelope.safeParse(raw);
    if (!envelope.success) throw new RequestError('bad-response', `${name}: malformed answer`);
    if (!envelope.data.ok) {
      const { code, message, redirect } = envelope.data.error;
      throw new RequestError(code, `${name}: ${message}`, code === 'elsewhere' ? redirect : undefined);
    }
    const data = requests[name].res.safeParse(envelope.data.data);
    if (!data.success) throw new RequestError('bad-response', `${name}: malformed answer`);
    return data.data as ResponseOf<N>;
  }

  private firstConnection(name: string): Promise<void> {
    const socket = this.current;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.off('connect', done);
        reject(new RequestError('disconnected', `${name}: could not connect`));
      }, REQUEST_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      socket.once('connect', done);
    });
  }

  /** Subscribes to a notification; malformed ones are dropped. Returns an unsubscribe function. */
  on<N extends NotificationName>(name: N, handler: (data: NotificationOf<N>) => void): () => void {
    return this.bind(name as string, (raw: unknown) => {
      const parsed = notifications[name].safeParse(raw);
      if (parsed.success) handler(parsed.data as NotificationOf<N>);
      else console.warn(`dropped malformed "${name}" notification`);
    });
  }

  close(): void {
    this.current.close();
  }
}

const CONNECTION_EVENTS = new Set(['connect', 'disconnect', 'connect_error']);
