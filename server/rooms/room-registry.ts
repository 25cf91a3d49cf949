// Creates rooms on demand (one Router each, on the next worker of the pool),
// forgets them when their last participant leaves, and moves them to a live
// worker when theirs dies.
import type { Logger } from 'pino';
import { Room } from './room.ts';
import type { RtcOptions } from './room-options.ts';
import type { WorkerPool } from '../sfu/worker-pool.ts';

export class RoomRegistry {
  private readonly rooms = new Map<string, Promise<Room>>();
  /** The same rooms once created, for synchronous lookups. */
  private readonly ready = new Map<string, Room>();

  /** Told when a consultation's room opens and when it closes (several nodes: the registry in Redis). Check rooms are not told. */
  onRoomOpened: ((roomId: string) => void) | undefined;
  onRoomClosed: ((roomId: string) => void) | undefined;

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
          this.onRoomClosed?.(roomId);
        };
        r.onWorkerLost = () => void this.move(r);
        this.ready.set(roomId, r);
        this.onRoomOpened?.(roomId);
        return r;
      });
      room.catch(() => this.rooms.delete(roomId));
      this.rooms.set(roomId, room);
    }
    return room;
  }

  /** Whether the room exists or is being created (no waiting). */
  has(roomId: string): boolean {
    return this.rooms.has(roomId);
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

  /** Every ready room (ops, tests). */
  all(): Room[] {
    return [...this.ready.values()];
  }

  /**
   * A pre-appointment connection check's room: on the SFU like a call, but
   * of its own (no consultation's room, never listed), where its one
   * participant gets its own media back (loopback). Closed when it leaves,
   * or when its worker dies.
   */
  async createCheckRoom(id: string): Promise<Room> {
    const room = await Room.create(id, this.pool.nextWorker(), this.rtc, this.log, { loopback: true });
    room.onWorkerLost = () => room.close();
    return room;
  }

  /** Rooms moved to another worker after theirs died (ops, tests). */
  moved = 0;

  private async move(room: Room): Promise<void> {
    try {
      await room.moveTo(await this.pool.liveWorker());
      this.moved++;
    } catch (err) {
      // No worker came back: end the media of this room rather than pretend.
      this.log.error({ roomId: room.id, err: String(err) }, 'could not move a room to a live SFU worker');
      room.close();
    }
  }

  async closeAll(): Promise<void> {
    const rooms = await Promise.allSettled(this.rooms.values());
    for (const r of rooms) if (r.status === 'fulfilled') r.value.close();
    this.rooms.clear();
    this.ready.clear();
  }
}
