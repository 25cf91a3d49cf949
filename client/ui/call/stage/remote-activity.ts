// Speaking and "has a picture yet" for remote participants, folded from the
// receivers' getStats samples. Pure so it is unit-tested
// (tests/unit/remote-activity.test.ts); use-remote-activity.ts polls.
// Mute and camera-off are not guessed here: the sender signals them
// (producerPaused, RemoteTrack.paused).

/** One receiver's counters at one instant (from RTCInboundRtpStreamStats). */
export interface ReceiverSample {
  consumerId: string;
  peerId: string;
  source: 'mic' | 'camera' | 'screen';
  /** Cumulative packetsReceived. */
  packets: number;
  /** Cumulative framesDecoded (video; 0 for audio). */
  frames: number;
  /** audioLevel of the received audio, 0..1 linear (1 = 0 dBov); undefined for video. */
  audioLevel: number | undefined;
}

/** What the stats say about one remote participant. */
export interface PeerActivity {
  /** Voice right now: the mic's packets flow and its level is loud (held SPEAKING_HOLD_MS). */
  speaking: boolean;
  /** A camera frame was decoded: until then (e.g. before keys) a placeholder beats a black tile. */
  pictureReady: boolean;
}

/** Per receiver: the last counters and when they last grew (ms, same clock as `now`). */
export interface ReceiverTrack {
  packets: number;
  frames: number;
  grewAt: number | undefined;
  loudAt: number | undefined;
}

export type ActivityState = ReadonlyMap<string, ReceiverTrack>;

/** No audio packets for this long (ms): not speaking, whatever the last level said. */
export const QUIET_MS = 1500;
/** audioLevel at or above this counts as voice (≈ −34 dBov); below is room noise. */
export const SPEAKING_LEVEL = 0.02;
/** Speaking stays on this long (ms) after the last loud sample, so it does not flicker between words. */
export const SPEAKING_HOLD_MS = 800;

/**
 * Folds one round of samples (taken at `now`, ms) into the state, and says
 * for each of `peerIds` what its tiles should show. Receivers absent from
 * `samples` are forgotten (their consumer closed).
 */
export function foldActivity(
  prev: ActivityState,
  samples: readonly ReceiverSample[],
  peerIds: readonly string[],
  now: number,
): { state: ActivityState; activity: Record<string, PeerActivity> } {
  const state = new Map<string, ReceiverTrack>();
  for (const s of samples) {
    const seen = prev.get(s.consumerId);
    // Counters only grow; a smaller value is a new receiver under a reused id.
    const old = seen && s.packets >= seen.packets ? seen : undefined;
    const grew = old ? s.packets > old.packets : s.packets > 0;
    const loud = s.audioLevel !== undefined && s.audioLevel >= SPEAKING_LEVEL;
    state.set(s.consumerId, {
      packets: s.packets,
      frames: s.frames,
      grewAt: grew ? now : old?.grewAt,
      loudAt: loud && grew ? now : old?.loudAt,
    });
  }
  const recent = (t: number | undefined, window: number) => t !== undefined && now - t < window;
  const activity: Record<string, PeerActivity> = {};
  for (const peerId of peerIds) {
    const mine = samples.filter((s) => s.peerId === peerId);
    const mic = mine.filter((s) => s.source === 'mic').map((s) => state.get(s.consumerId)!);
    const cam = mine.filter((s) => s.source === 'camera').map((s) => state.get(s.consumerId)!);
    activity[peerId] = {
      speaking: mic.some((r) => recent(r.grewAt, QUIET_MS) && recent(r.loudAt, SPEAKING_HOLD_MS)),
      pictureReady: cam.some((r) => r.frames > 0),
    };
  }
  return { state, activity };
}
