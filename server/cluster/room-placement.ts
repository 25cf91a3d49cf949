// Which node a consultation's room goes to (issue 16), asked by the requests
// that need the room (enterWaitingRoom, join): here, or a redirect to the
// node that hosts it. A room nobody hosts (or whose node died) goes to the
// least-loaded live node (ClusterRegistry.place, atomic in Redis), so the
// waiting patient and the doctor always meet on one node.
import type { Logger } from 'pino';
import type { Redirect } from '../../shared/protocol/cluster.ts';
import type { ClusterRegistry } from './room-registry.ts';
import type { RoomHosting } from './room-hosting.ts';
import type { StaffTickets } from './staff-tickets.ts';

/** What PeerSession asks: undefined when the room is (now) this node's, else where to go. */
export interface RoomPlacement {
  /**
   * Where `consultationId`'s room is. Undefined: here (this node now holds
   * its registry entry). Otherwise the hosting node's id and public URL, with
   * a staff ticket when `staffTokenHash` is given. Rejects when Redis cannot
   * be reached or no live node can be found (the client retries).
   */
  locate(consultationId: string, staffTokenHash?: string): Promise<Redirect | undefined>;
}

/** RoomPlacement over the cluster's registry, this node's hosting and the staff tickets. */
export class ClusterPlacement implements RoomPlacement {
  constructor(
    private readonly registry: ClusterRegistry,
    private readonly hosting: RoomHosting,
    private readonly tickets: StaffTickets,
    private readonly log: Logger,
  ) {}

  async locate(consultationId: string, staffTokenHash?: string): Promise<Redirect | undefined> {
    if (this.hosting.hosts(consultationId)) return undefined;
    // Twice at most: the owner place() named may die before we read its record.
    for (let tries = 0; tries < 2; tries++) {
      const owner = await this.registry.place(consultationId);
      if (owner === this.registry.self.id) {
        this.hosting.placedHere(consultationId);
        return undefined;
      }
      const where = await this.registry.lookup(consultationId);
      if (where?.nodeId !== owner || !where.node) continue;
      const ticket = staffTokenHash ? await this.tickets.issue(staffTokenHash, owner) : undefined;
      this.log.debug({ consultationId, nodeId: owner }, 'redirected to the hosting node');
      return { nodeId: owner, url: where.node.publicUrl, ...(ticket ? { ticket } : {}) };
    }
    throw new Error('no live node could host the room');
  }
}
