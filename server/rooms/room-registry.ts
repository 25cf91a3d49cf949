// Creates rooms on demand (one Router each, on the next worker of the pool)
// and forgets them when their last participant leaves.
import type { Logger } from 'pino';
import { Room, type RtcOptions } from './room.ts';
import type { WorkerPool } from '../sfu/worker-pool.ts';

export class RoomRegistry {
  private readonly rooms = new Map<string, Promise<Room>>();
  /** The same rooms once created, for synchronous lookups. */
  private readonly ready = new Map<string, Room>();

  constructor(
    private readonly pool: WorkerPool,
    private readonly rtc: RtcOptions,
    private readonly log: Logger,
  ) {}

  /** Concurrent joins to a new room share one creation. */
  getOrCreate(roomId: string): Promise<Room> {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = Room.create(roomId, this.pool.nextWorker(), this.rtc, this.log).then((r) => {
        r.onEmpty = () => {
          this.rooms.delete(roomId);
          this.ready.delete(roomId);
        };
        this.ready.set(roomId, r);
        return r;
      });
      room.catch(() => this.rooms.delete(roomId));
      this.rooms.set(roomId, room);
    }
    return room;
  }

  async get(roomId: string): Promise<Room | undefined> {
    return this.rooms.get(roomId);
  }

  /** The room if it exists and is ready (no waiting). */
  peek(roomId: string): Room | undefined {
    return this.ready.get(roomId);
  }

  get size(): number {
    return this.rooms.size;
  }

  async closeAll(): Promise<void> {
    const rooms = await Promise.allSettled(this.rooms.values());
    for (const r of rooms) if (r.status === 'fulfilled') r.value.close();
    this.rooms.clear();
    this.ready.clear();
  }
}
