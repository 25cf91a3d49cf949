// Staff tickets (issue 16): a staff member's session cookie belongs to the
// clinic origin, which a hosting node's own origin never sees. When a node
// redirects a signed-in doctor to the node hosting the room, it mints a
// ticket: 32 random bytes, single-use, alive TICKET_TTL_MS, good on that one
// node only, standing for the same staff session (by the token's hash — the
// token never leaves the cookie). The hosting node redeems it at the socket
// handshake and then treats the connection exactly as a cookie's: the
// session is re-read on every request and its revocation ends it.
// Redis keeps only the ticket's SHA-256, so a dump of Redis holds no ticket.
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { StaffTicket } from '../../shared/protocol/cluster.ts';

/** A ticket's lifetime (ms): the client uses it right away, on the redirect. */
export const TICKET_TTL_MS = 30_000;

const Stored = z.object({ tokenHash: z.string().regex(/^[0-9a-f]{64}$/), nodeId: z.string() }).strict();

export class StaffTickets {
  private readonly p: string;

  /** `redis`: the node's client (owned by the caller); `selfId`: this node's id (tickets are redeemed here only); `prefix`: the cluster's key prefix (default "confide:"). */
  constructor(
    private readonly redis: Redis,
    private readonly selfId: string,
    prefix = 'confide:',
  ) {
    this.p = `${prefix}ticket:`;
  }

  private key(ticket: string): string {
    return this.p + createHash('sha256').update(ticket).digest('hex');
  }

  /**
   * A new ticket for the staff session whose token hashes to `tokenHash`
   * (hex), redeemable once, on node `nodeId`, within TICKET_TTL_MS. Rejects
   * when Redis cannot be reached.
   */
  async issue(tokenHash: string, nodeId: string): Promise<string> {
    const ticket = randomBytes(32).toString('base64url');
    await this.redis.set(this.key(ticket), JSON.stringify({ tokenHash, nodeId }), 'PX', TICKET_TTL_MS);
    return ticket;
  }

  /**
   * The session hash a ticket stands for, consuming it (GETDEL: one use, even
   * with two handshakes racing). Undefined for anything malformed, unknown,
   * expired, used, or minted for another node than this one. Rejects when
   * Redis cannot be reached.
   */
  async redeem(ticket: unknown): Promise<string | undefined> {
    if (!StaffTicket.safeParse(ticket).success) return undefined;
    const raw = await this.redis.getdel(this.key(ticket as string));
    if (raw === null) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return undefined;
    }
    const stored = Stored.safeParse(parsed);
    return stored.success && stored.data.nodeId === this.selfId ? stored.data.tokenHash : undefined;
  }
}
