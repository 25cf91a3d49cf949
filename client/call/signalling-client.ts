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

export class RequestError extends Error {
  constructor(
    readonly code: ErrorCode | 'timeout' | 'bad-response',
    message: string,
  ) {
    super(message);
  }
}

const REQUEST_TIMEOUT_MS = 10_000;

export class SignallingClient {
  readonly socket: Socket;

  constructor(url: string = window.location.origin) {
    this.socket = io(url, { path: '/socket.io', transports: ['websocket'], autoConnect: true });
  }

  async request<N extends RequestName>(name: N, payload: RequestOf<N>): Promise<ResponseOf<N>> {
    let raw: unknown;
    try {
      raw = await this.socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck(name, payload);
    } catch {
      throw new RequestError('timeout', `${name}: no answer from the server`);
    }
    const envelope = AckEnvelope.safeParse(raw);
    if (!envelope.success) throw new RequestError('bad-response', `${name}: malformed answer`);
    if (!envelope.data.ok) throw new RequestError(envelope.data.error.code, `${name}: ${envelope.data.error.message}`);
    const data = requests[name].res.safeParse(envelope.data.data);
    if (!data.success) throw new RequestError('bad-response', `${name}: malformed answer`);
    return data.data as ResponseOf<N>;
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
