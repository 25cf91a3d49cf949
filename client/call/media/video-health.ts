/**
 * Which remote videos are actually moving. A tile whose video decoded no
 * frame for more than `stallMs` is "paused" (network trouble, a reconnect, a
 * sender gone quiet): the UI overlays it instead of showing a silent frozen
 * picture. Reads framesDecoded from each video consumer's getStats.
 * @module
 */
import type { ConsumedTrack } from './media-transports.ts';

export interface VideoHealthOptions {
  /** No decoded frame for this long means stalled (ms). */
  stallMs?: number;
  /** Poll interval (ms). */
  everyMs?: number;
  now?: () => number;
}

/** Decides stalls from successive framesDecoded samples. Pure; the poller below feeds it. */
export class StallDetector {
  private readonly last = new Map<string, { frames: number; changedAt: number }>();

  constructor(private readonly stallMs = 2000) {}

  /** Records a sample for `consumerId` at `now` (ms); returns whether it is stalled. */
  sample(consumerId: string, framesDecoded: number, now: number): boolean {
    const prev = this.last.get(consumerId);
    if (!prev || framesDecoded !== prev.frames) {
      this.last.set(consumerId, { frames: framesDecoded, changedAt: now });
      return false;
    }
    return now - prev.changedAt > this.stallMs;
  }

  /** Forgets consumers that are gone. */
  keepOnly(consumerIds: Set<string>): void {
    for (const id of this.last.keys()) if (!consumerIds.has(id)) this.last.delete(id);
  }
}

/** Polls the video consumers and reports the set of stalled consumer ids whenever it changes. */
export class VideoHealth {
  private readonly detector: StallDetector;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stalled = new Set<string>();

  constructor(
    private readonly consumers: () => ConsumedTrack[],
    private readonly onChange: (stalled: ReadonlySet<string>) => void,
    private readonly opts: VideoHealthOptions = {},
  ) {
    this.detector = new StallDetector(opts.stallMs ?? 2000);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.opts.everyMs ?? 500);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    const now = (this.opts.now ?? Date.now)();
    const video = this.consumers().filter((c) => c.kind === 'video' && !c.consumer.closed);
    const stalled = new Set<string>();
    for (const c of video) {
      const report = await c.consumer.getStats().catch(() => undefined);
      let frames = 0;
      report?.forEach((s: Record<string, unknown>) => {
        if (s.type === 'inbound-rtp') frames = Number(s.framesDecoded ?? 0);
      });
      if (this.detector.sample(c.consumer.id, frames, now)) stalled.add(c.consumer.id);
    }
    this.detector.keepOnly(new Set(video.map((c) => c.consumer.id)));
    const changed = stalled.size !== this.stalled.size || [...stalled].some((id) => !this.stalled.has(id));
    this.stalled = stalled;
    if (changed) this.onChange(stalled);
  }
}
