// Short-lived TURN credentials in coturn's "TURN REST API" scheme
// (use-auth-secret / static-auth-secret; draft-uberti-behave-turn-rest-00):
// username = "<expiry, unix seconds>:<tag>", password =
// base64(HMAC-SHA1(secret, username)). coturn recomputes the password from
// the shared secret and refuses a username whose expiry has passed, so the
// server never stores credentials and a leaked one dies by itself.
import crypto from 'node:crypto';
import type { IceServer } from '../../shared/protocol/signalling.ts';

export interface TurnSettings {
  /** Host name or IP in the turn:/turns: URLs (must match the TLS certificate for turns:). */
  host: string;
  /** UDP and TCP listening port of the relay (3478 by default). */
  port: number;
  /** TLS listening port (443 when the clinic's firewalls let only that through); undefined: no turns: URL. */
  tlsPort: number | undefined;
  /** The secret shared with coturn (static-auth-secret). Never logged, never sent to a client. */
  secret: string;
  /** How long a credential works (ms). */
  ttlMs: number;
}

/**
 * ICE servers for one participant's transport: the relay over UDP, TCP and
 * (when configured) TLS, with a fresh credential that expires after
 * `ttlMs`. `now`: ms since the epoch (tests).
 */
export function turnIceServers(s: TurnSettings, now = Date.now()): IceServer[] {
  const expiry = Math.floor((now + s.ttlMs) / 1000);
  // A random tag, not a participant id: coturn's logs learn nothing about who calls.
  const username = `${expiry}:${crypto.randomBytes(9).toString('base64url')}`;
  const credential = crypto.createHmac('sha1', s.secret).update(username).digest('base64');
  const host = s.host.includes(':') ? `[${s.host}]` : s.host;
  const urls = [`turn:${host}:${s.port}?transport=udp`, `turn:${host}:${s.port}?transport=tcp`];
  if (s.tlsPort !== undefined) urls.push(`turns:${host}:${s.tlsPort}?transport=tcp`);
  return [{ urls, username, credential }];
}

/**
 * When the credential in `servers` (made by turnIceServers) stops working,
 * in ms since the epoch; undefined if they carry none of ours.
 */
export function turnCredentialExpiry(servers: readonly IceServer[]): number | undefined {
  const m = /^(\d+):/.exec(servers[0]?.username ?? '');
  return m ? Number(m[1]) * 1000 : undefined;
}
