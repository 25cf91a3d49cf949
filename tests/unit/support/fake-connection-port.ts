// A signalling socket the connection tests drive (the ConnectionPort that
// CallConnection and WaitingRoomLink use): it counts connect() calls, and
// each one ends as the test says.
import type { ConnectionPort } from '../../../client/call/connection/call-connection.ts';
import type { ConnectionEvent } from '../../../client/call/signalling-client.ts';

export class FakePort implements ConnectionPort {
  connected = true;
  attempts = 0;
  /**
   * How each connect() ends: 'manual', the test emits the outcome;
   * 'down', it fails at once (an unreachable server); 'up', it connects on
   * the next timer tick (not recovered).
   */
  mode: 'manual' | 'down' | 'up' = 'manual';
  private listener: ((e: ConnectionEvent) => void) | undefined;

  connect(): void {
    this.attempts++;
    if (this.mode === 'down') queueMicrotask(() => this.emit({ type: 'connect_error' }));
    else if (this.mode === 'up') setTimeout(() => this.emit(this.mode === 'up' ? { type: 'connect', recovered: false } : { type: 'connect_error' }), 0);
  }

  onConnection(l: (e: ConnectionEvent) => void): () => void {
    this.listener = l;
    return () => (this.listener = undefined);
  }

  emit(e: ConnectionEvent): void {
    this.connected = e.type === 'connect';
    this.listener?.(e);
  }
}
