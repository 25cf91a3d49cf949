/**
 * A participant's side of a call, as the UI sees it: the join sequence, the
 * people in the room (Participants), our media toward the SFU
 * (MediaTransports) and what we send. UI code observes it through
 * subscribe()/snapshot(); snapshots are replaced, never mutated.
 *
 * What survives what (see docs/architecture.md):
 * - resume (same socket session): everything; media only restarts ICE;
 * - media reset (the room moved to another SFU worker): people, keys and
 *   chat stay; transports, producers and consumers are rebuilt;
 * - full rejoin (new session, new peer id): local tracks, sending flags and
 *   people stay on screen; everything else is rebuilt by the owner
 *   (ConsultationCall) through join() again.
 * @module
 */
import type { types } from 'mediasoup-client';
import type { MediaSource, ProducerInfo, ResponseOf, Role } from '../../shared/protocol/signalling.ts';
import { RequestError, SignallingClient } from './signalling-client.ts';
import type { FrameTransformer } from './frame-transformer.ts';
import { MediaTransports, type ConsumedTrack, type MediaState } from './media/media-transports.ts';
import { Participants, type RemoteParticipant, type RemoteTrack } from './media/participants.ts';
import { IDLE_CONNECTION, type ConnectionSnapshot } from './connection/connection-state.ts';
import { VideoHealth } from './media/video-health.ts';

export type { RemoteParticipant, RemoteTrack };

/**
 * 'replaced': the same person joined from another tab or device, which took
 * this connection's place; 'lost': the connection could not be brought back.
 */
export type CallState = 'idle' | 'joining' | 'joined' | 'left' | 'ended' | 'failed' | 'replaced';

export interface CallSnapshot {
  state: CallState;
  error: string | undefined;
  /** Error code from the server (e.g. 'ended', 'forbidden'), when joining failed. */
  errorCode: string | undefined;
  peerId: string | undefined;
  role: Role | undefined;
  participants: RemoteParticipant[];
  /** Local sources currently sent (not paused). */
  sending: Record<MediaSource, boolean>;
  /** The connection's health, owned by CallConnection. */
  connection: ConnectionSnapshot;
}

export interface JoinOptions {
  roomId: string;
  displayName: string;
  /** A patient's rejoin credential (sessionStorage), to come back without re-admission. */
  rejoinToken?: string;
  /** Runs with the join answer before any media is produced (key agreement starts here). */
  onJoined?: (joined: ResponseOf<'join'>) => Promise<void>;
}

const LEAVER_CLOSE_DELAY_MS = 1500;
const NOT_SENDING: Record<MediaSource, boolean> = { mic: false, camera: false, screen: false };

export const IDLE: CallSnapshot = {
  state: 'idle',
  error: undefined,
  errorCode: undefined,
  peerId: undefined,
  role: undefined,
  participants: [],
  sending: NOT_SENDING,
  connection: IDLE_CONNECTION,
};

export class CallSession {
  readonly signalling: SignallingClient;
  private media: MediaTransports | undefined;
  private readonly people: Participants;
  private readonly listeners = new Set<() => void>();
  private current: CallSnapshot = IDLE;
  private readonly keyFrameAsked = new Map<string, number>();
  /** What we send, by source, so media can be rebuilt with the same tracks and pauses. */
  private readonly local = new Map<MediaSource, { track: MediaStreamTrack; paused: boolean }>();
  /** Producers announced before our media was open (consumed once it is). */
  private pendingProducers: ProducerInfo[] | undefined;
  private ending = false;
  private everJoined = false;
  private readonly health: VideoHealth;
  /** Media state changes, for the connection owner (restart ICE when media breaks). */
  onMediaState: ((state: MediaState) => void) | undefined;
  /** The SFU moved our room (mediaReset): the owner rebuilds media. */
  onMediaReset: (() => void) | undefined;

  constructor(
    private transformer: FrameTransformer | undefined = undefined,
    signalling: SignallingClient = new SignallingClient(),
  ) {
    this.signalling = signalling;
    this.people = new Participants(() => this.update({ participants: this.people.list() }));
    this.health = new VideoHealth(
      () => this.consumerEntries(),
      (stalled) => this.people.setStalled(stalled),
    );
    this.listen();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = (): CallSnapshot => this.current;

  /**
   * Joins the room, opens media, sends `stream`'s tracks (on the first join)
   * or the tracks we were sending (on a rejoin), and consumes everyone's.
   * Throws (and moves to 'failed') with the server's RequestError.
   */
  async join({ roomId, displayName, rejoinToken, onJoined }: JoinOptions, stream?: MediaStream): Promise<ResponseOf<'join'>> {
    this.update({ state: 'joining', error: undefined, errorCode: undefined });
    try {
      this.pendingProducers = [];
      const joined = await this.signalling.request('join', { roomId, displayName, ...(rejoinToken ? { rejoinToken } : {}) });
      this.update({ peerId: joined.peerId, role: joined.role });
      this.people.resetTo(joined.peers);
      await onJoined?.(joined);
      if (stream) {
        for (const track of stream.getTracks()) this.local.set(track.kind === 'audio' ? 'mic' : 'camera', { track, paused: false });
      }
      await this.openMedia(joined.routerRtpCapabilities, joined.producers);
      this.everJoined = true;
      this.health.start();
      this.update({ state: 'joined' });
      return joined;
    } catch (err) {
      // A failed rejoin is the connection owner's to retry: the call is not over.
      if (this.everJoined) throw err;
      this.update({
        state: 'failed',
        error: err instanceof Error ? err.message : String(err),
        errorCode: err instanceof RequestError ? err.code : undefined,
      });
      throw err;
    }
  }

  /** Before a full rejoin: drop the old media (and use `transformer`, the new E2EE manager, from now on). */
  prepareRejoin(transformer: FrameTransformer | undefined): void {
    this.media?.close();
    this.media = undefined;
    this.transformer = transformer;
    this.people.clearTracks();
  }

  /**
   * After a signalling resume, or when media broke: restart ICE on both
   * transports unless media already healed by itself (ICE consent checks
   * resume when the network does), then ask for fresh keyframes.
   */
  async resumeMedia(force = false): Promise<void> {
    if (force || this.media?.mediaState !== 'connected') await this.media?.restartIce();
    for (const p of this.current.participants) this.requestKeyFrames(p.peerId, true);
  }

  /** After a mediaReset: rebuild transports on the room's new Router, send the same tracks, consume everyone. */
  async rebuildMedia(): Promise<void> {
    const previous = this.media;
    previous?.close();
    this.media = undefined;
    this.people.clearTracks();
    this.pendingProducers = [];
    const { routerRtpCapabilities, producers } = await this.signalling.request('rejoinMedia', {});
    await this.openMedia(routerRtpCapabilities, producers, previous);
  }

  /** Doctor only: end the consultation for everyone. */
  async endConsultation(): Promise<void> {
    this.ending = true;
    try {
      await this.signalling.request('endConsultation', {});
    } catch (err) {
      // The server ends the room before it answers: the end notification may close us first.
      if (this.current.state !== 'ended') {
        this.ending = false;
        throw err;
      }
    }
    this.teardown('ended');
  }

  /** Mute/unmute, camera off/on: a paused producer sends no RTP at all, and the others are told. */
  setSending(source: MediaSource, on: boolean): void {
    const local = this.local.get(source);
    if (local) local.paused = !on;
    const p = this.media?.producer(source);
    if (p) void this.media?.setPaused(p, !on);
    this.update({ sending: { ...this.current.sending, [source]: on } });
  }

  /** Shares a screen track (encrypted like the camera); it stops when the track ends. */
  async startScreenShare(track: MediaStreamTrack): Promise<void> {
    // Already sharing, or the call ended while the picker was open: capture stops at once.
    if (this.local.has('screen') || !this.media || this.current.state !== 'joined') {
      track.stop();
      return;
    }
    this.local.set('screen', { track, paused: false });
    try {
      await this.media.produce(track, 'screen');
    } catch (err) {
      // Not sent (encryption could not attach, or the server refused): nothing is left half-shared.
      this.local.delete('screen');
      track.stop();
      throw err;
    }
    track.addEventListener('ended', () => void this.stopScreenShare());
    this.update({ sending: { ...this.current.sending, screen: true } });
  }

  async stopScreenShare(): Promise<void> {
    const local = this.local.get('screen');
    if (!local) return;
    this.local.delete('screen');
    local.track.stop();
    this.update({ sending: { ...this.current.sending, screen: false } });
    await this.media?.closeProducer('screen');
  }

  /** RTCStatsReports of both transports (network-quality hint). */
  async transportStats(): Promise<RTCStatsReport[]> {
    return (await this.media?.stats()) ?? [];
  }

  async leave(): Promise<void> {
    if (this.current.state === 'left') return;
    try {
      await this.signalling.request('leave', {});
    } catch {
      // Leaving locally matters more than the server hearing about it; the
      // socket closing below tells the server anyway.
    }
    this.teardown('left');
  }

  /** Ends the call on this page ('left', 'ended', 'replaced'): media and socket close. */
  teardown(state: 'left' | 'ended' | 'replaced'): void {
    this.health.stop();
    // The screen capture is ours alone (the camera and mic stream belongs to the page, which stops it).
    this.local.get('screen')?.track.stop();
    this.local.delete('screen');
    this.media?.close();
    this.signalling.close();
    this.people.clear();
    this.update({ state, participants: [], sending: NOT_SENDING });
  }

  /** Publishes the connection owner's state in the snapshot. */
  setConnection(connection: ConnectionSnapshot): void {
    this.update({ connection });
  }

  /** Producers by source, for controls and test hooks. */
  producer(source: MediaSource): types.Producer | undefined {
    return this.media?.producer(source);
  }

  /**
   * Asks the SFU for a keyframe on every video stream from `peerId` (its key
   * just became known, or media was restarted). At most once a second per
   * participant unless `force`: a keyframe is costly.
   */
  requestKeyFrames(peerId: string, force = false): void {
    const now = Date.now();
    if (!force && now - (this.keyFrameAsked.get(peerId) ?? 0) < 1000) return;
    this.keyFrameAsked.set(peerId, now);
    for (const c of this.media?.consumerEntries() ?? []) {
      if (c.peerId !== peerId || c.kind !== 'video') continue;
      this.signalling.request('requestKeyFrame', { consumerId: c.consumer.id }).catch(() => undefined);
    }
  }

  consumerEntries(): ConsumedTrack[] {
    return this.media?.consumerEntries() ?? [];
  }

  private async openMedia(caps: ResponseOf<'join'>['routerRtpCapabilities'], producers: ProducerInfo[], previous?: MediaTransports): Promise<void> {
    const media = new MediaTransports(this.signalling, this.transformer, (s) => this.onMediaState?.(s));
    this.media = media;
    await media.open(caps, previous);
    const sendAll = async () => {
      const sending = { ...NOT_SENDING };
      for (const [source, { track, paused }] of this.local) {
        if (track.readyState === 'ended') continue;
        await media.produce(track, source, paused);
        sending[source] = !paused;
      }
      this.update({ sending });
    };
    const early = this.pendingProducers ?? [];
    this.pendingProducers = undefined;
    const known = new Set(producers.map((p) => p.producerId));
    const others = [...producers, ...early.filter((p) => !known.has(p.producerId))];
    // Sending and receiving use separate transports: set both up at once.
    await Promise.all([sendAll(), ...others.map((p) => this.consume(p))]);
  }

  private async consume(info: ProducerInfo): Promise<void> {
    if (this.pendingProducers) {
      this.pendingProducers.push(info);
      return;
    }
    const media = this.media;
    const got = await media?.consume(info);
    if (!got || media !== this.media) return;
    this.people.addTrack(got.peerId, {
      consumerId: got.consumer.id,
      producerId: got.producerId,
      kind: got.kind,
      source: got.source,
      track: got.consumer.track,
      paused: got.producerPaused,
      stalled: false,
    });
  }

  private listen(): void {
    const s = this.signalling;
    s.on('peerJoined', (p) => this.people.joined(p));
    s.on('peerLeft', ({ peerId, reason }) => {
      this.people.left(peerId, reason);
      // The SFU already stopped these streams. Closing them renegotiates the
      // receive connection, which pauses all incoming video for ~0.3 s on a
      // busy machine; doing it while everyone switches keys (a leave triggers
      // a rekey) made the two pauses add up. So close them a moment later.
      this.media?.dropConsumersOf(peerId, LEAVER_CLOSE_DELAY_MS);
    });
    s.on('peerConnection', ({ peerId, state }) => this.people.setReconnecting(peerId, state === 'reconnecting'));
    s.on('newProducer', (p) => void this.consume(p));
    s.on('producerPaused', ({ producerId, paused }) => this.people.setPaused(producerId, paused));
    s.on('consumerClosed', ({ consumerId }) => {
      this.media?.removeConsumer(consumerId);
      this.people.removeTrack(consumerId);
    });
    s.on('mediaReset', () => this.onMediaReset?.());
    s.on('consultationEnded', () => {
      // Ending it ourselves: let endConsultation() hear the answer before closing.
      if (this.ending) this.update({ state: 'ended' });
      else this.teardown('ended');
    });
    s.on('replaced', () => this.teardown('replaced'));
  }

  private update(patch: Partial<CallSnapshot>): void {
    this.current = { ...this.current, ...patch };
    for (const l of this.listeners) l();
  }
}
