// Several nodes (issue 16): the answer a node gives when a consultation's
// room lives on another node. A request that needs the room (enterWaitingRoom,
// join, and a rejoin's join) fails with the error code `elsewhere` and a
// `redirect`; the client closes its socket, opens one to `redirect.url`
// (presenting `redirect.ticket` if any: a staff member's cookie is the
// clinic origin's, not the node's) and repeats the same request there, at
// most MAX_REDIRECTS times in a row (a room that moves again during a
// failover may redirect twice; more is a loop). See docs/architecture.md,
// Several nodes, and docs/protocol.md.
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
      const loopback = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(u.hostname) || u.hostname === 'localhost' || u.hostname === '[::1]';
      const scheme = u.protocol === 'https:' || (u.protocol === 'http:' && loopback);
      return scheme && !u.username && !u.password && u.pathname === '/' && !u.search && !u.hash && raw.replace(/\/$/, '') === u.origin;
    } catch {
      return false;
    }
  }, 'not a node origin');

/** A staff ticket: 32 random bytes, base64url (43 characters). */
export const StaffTicket = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

/**
 * Where the consultation's room lives: that node's id and public origin (its
 * CONFIDE_PUBLIC_URL); for a signed-in staff member, a single-use ticket
 * (30 s) that the node exchanges at the handshake (`auth: { ticket }`) for the
 * same staff session.
 */
export const Redirect = z.object({ nodeId: NodeId, url: NodeOrigin, ticket: StaffTicket.optional() }).strict();
export type Redirect = z.infer<typeof Redirect>;

/** The failed ack of a request sent to the wrong node (AckEnvelope's error with code `elsewhere`). */
export const ElsewhereError = z
  .object({ code: z.literal('elsewhere'), message: z.string().max(1000), redirect: Redirect })
  .strict();
export type ElsewhereError = z.infer<typeof ElsewhereError>;

/** Redirects a client follows in a row before it gives up (and shows a connection error). */
export const MAX_REDIRECTS = 2;
