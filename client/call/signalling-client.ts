// Typed request/response over socket.io, validated with the shared protocol
// schemas in both directions: the server is not trusted with media, and not
// trusted to send well-formed messages either.
import { io, type Socket } from 'socket.io-client';
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

/**
 * Typed requests and notifications over one socket.io connection. It never
 * reconnects by itself (`reconnection: false`): CallConnection decides when
 * to try again, so there is one retry policy. A reconnection of the same
 * socket lets socket.io's connection state recovery resume the session.
 */
export class SignallingClient {
  readonly socket: Socket;

  private everConnected = false;

  constructor(url: string = window.location.origin) {
    // A connection attempt into a black hole gives up after 5 s (socket.io's default is 20 s).
    this.socket = io(url, { path: '/socket.io', transports: ['websocket'], reconnection: false, timeout: 5000 });
    this.socket.once('connect', () => (this.everConnected = true));
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Opens the connection again after a drop (a no-op while connected). */
  connect(): void {
    if (!this.socket.connected) this.socket.connect();
  }

  /** Subscribes to connection events; returns an unsubscribe function. */
  onConnection(listener: (e: ConnectionEvent) => void): () => void {
    const onConnect = () => listener({ type: 'connect', recovered: this.socket.recovered });
    const onDisconnect = (reason: string) => listener({ type: 'disconnect', reason });
    const onError = () => listener({ type: 'connect_error' });
    this.socket.on('connect', onConnect);
    this.socket.on('disconnect', onDisconnect);
    this.socket.on('connect_error', onError);
    return () => {
      this.socket.off('connect', onConnect);
      this.socket.off('disconnect', onDisconnect);
      this.socket.off('connect_error', onError);
    };
  }

  /**
   * Sends a request and validates the answer. Rejects with RequestError:
   * the server's error code, 'disconnected', 'timeout' (10 s) or 'bad-response'.
   */
  async request<N extends RequestName>(name: N, payload: RequestOf<N>): Promise<ResponseOf<N>> {
    // The first connection may still be opening: wait for it. After that,
    // never buffer while down: after a full rejoin the request would reach a
    // session that is not ours any more. Callers retry once reconnected.
    if (!this.socket.connected && !this.everConnected) await this.firstConnection(name);
    if (!this.socket.connected) throw new RequestError('disconnected', `${name}: not connected`);
    let raw: unknown;
    try {
      raw = await this.socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck(name, payload);
    } catch {
      if (!this.socket.connected) throw new RequestError('disconnected', `${name}: connection lost`);
      throw new RequestError('timeout', `${name}: no answer from the server`);
    }
    const envelope = AckEnvelope.safeParse(raw);
    if (!envelope.success) throw new RequestError('bad-response', `${name}: malformed answer`);
    if (!envelope.data.ok) throw new RequestError(envelope.data.error.code, `${name}: ${envelope.data.error.message}`);
    const data = requests[name].res.safeParse(envelope.data.data);
    if (!data.success) throw new RequestError('bad-response', `${name}: malformed answer`);
    return data.data as ResponseOf<N>;
  }

  private firstConnection(name: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.off('connect', done);
        reject(new RequestError('disconnected', `${name}: could not connect`));
      }, REQUEST_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.socket.once('connect', done);
    });
  }

  /** Subscribes to a notification; malformed ones are dropped. Returns an unsubscribe function. */
  on<N extends NotificationName>(name: N, handler: (data: NotificationOf<N>) => void): () => void {
    const listener = (raw: unknown) => {
      const parsed = notifications[name].safeParse(raw);
      if (parsed.success) handler(parsed.data as NotificationOf<N>);
      else console.warn(`dropped malformed "${name}" notification`);
    };
    this.socket.on(name as string, listener);
    return () => this.socket.off(name as string, listener);
  }

  close(): void {
    this.socket.close();
  }
}
