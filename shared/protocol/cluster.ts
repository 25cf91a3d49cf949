// Several nodes (issue 16), DESIGNED, NOT WIRED YET: the answer a node gives
// when a consultation's room lives on another node. A request that needs the
// room (enterWaitingRoom, join, and a rejoin's join) fails with the error
// code `elsewhere` and a `redirect`; the client closes its socket, opens one
// to `redirect.url` and repeats the same request there, at most
// MAX_REDIRECTS times in a row (a room that moves again during a failover
// may redirect twice; more is a loop). See docs/architecture.md, Several nodes.
import { z } from 'zod';

/** Node ids (CONFIDE_NODE_ID): short, no Redis key separator (`:`), spaces or control characters. */
export const NODE_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const NodeId = z.string().regex(NODE_ID_PATTERN);

/** A node's public origin: https (or http on loopback, for tests), no credentials, path, query or fragment. */
export const NodeOrigin = z
  .string()
  .max(2048)
  .refine((raw) => {
    try {
      const u = new URL(raw);
      const loopback = u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]';
      const scheme = u.protocol === 'https:' || (u.protocol === 'http:' && loopback);
      return scheme && !u.username && !u.password && u.pathname === '/' && !u.search && !u.hash && raw.replace(/\/$/, '') === u.origin;
    } catch {
      return false;
    }
  }, 'not a node origin');

/** Where the consultation's room lives: that node's id and public origin (its CONFIDE_PUBLIC_URL). */
export const Redirect = z.object({ nodeId: NodeId, url: NodeOrigin }).strict();
export type Redirect = z.infer<typeof Redirect>;

/**
 * The failed ack of a request sent to the wrong node. It will join the
 * AckEnvelope's error union when wired (ErrorCode gains `elsewhere`).
 */
export const ElsewhereError = z
  .object({ code: z.literal('elsewhere'), message: z.string().max(1000), redirect: Redirect })
  .strict();
export type ElsewhereError = z.infer<typeof ElsewhereError>;

/** Redirects a client follows in a row before it gives up (and shows a connection error). */
export const MAX_REDIRECTS = 2;
