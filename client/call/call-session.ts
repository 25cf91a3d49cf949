// A participant's side of a call: mediasoup-client Device, one send and one
// receive transport, a producer per local track and a consumer per remote
// track. UI code observes it through subscribe()/snapshot().
import { Device, types } from 'mediasoup-client';
import type { MediaSource, PeerInfo, ProducerInfo, ResponseOf, Role } from '../../shared/protocol/signalling.ts';
import { RequestError, SignallingClient } from './signalling-client.ts';
import type { FrameTransformer } from './frame-transformer.ts';

export interface RemoteTrack {
  consumerId: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  track: MediaStreamTrack;
}

export interface RemoteParticipant {
  peerId: string;
  displayName: string;
  role: Role;
  tracks: RemoteTrack[];
}

export type CallState = 'idle' | 'joining' | 'joined' | 'left' | 'ended' | 'failed';

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
}

export interface JoinOptions {
  roomId: string;
  displayName: string;
  stream: MediaStream;
  /** Runs with the join answer before any media is produced (key agreement starts here). */
  onJoined?: (joined: ResponseOf<'join'>) => Promise<void>;
}

const LEAVER_CLOSE_DELAY_MS = 1500;

export const IDLE: CallSnapshot = {
  state: 'idle',
  error: undefined,
  errorCode: undefined,
  peerId: undefined,
  role: undefined,
  participants: [],
  sending: { mic: false, camera: false, screen: false },
};

export class CallSession {
  readonly signalling: SignallingClient;
  private device: Device | undefined;
  private sendTransport: types.Transport | undefined;
  private recvTransport: types.Transport | undefined;
  private readonly producers = new Map<string, types.Producer>();
  private readonly consumers = new Map<string, { consumer: types.Consumer; peerId: string }>();
  private readonly participants = new Map<string, RemoteParticipant>();
  private readonly listeners = new Set<() => void>();
  private current: CallSnapshot = IDLE;
  private consumeChain: Promise<void> = Promise.resolve();
  private readonly keyFrameAsked = new Map<string, number>();

  constructor(
    private readonly transformer: FrameTransformer | undefined = undefined,
    signalling: SignallingClient = new SignallingClient(),
  ) {
    this.signalling = signalling;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = (): CallSnapshot => this.current;

  async join({ roomId, displayName, stream, onJoined }: JoinOptions): Promise<void> {
    this.update({ state: 'joining' });
    try {
      this.listen();
      const joined = await this.signalling.request('join', { roomId, displayName });
      this.update({ peerId: joined.peerId, role: joined.role });
      for (const p of joined.peers) this.addParticipant(p);
      await onJoined?.(joined);

      const device = new Device();
      await device.load({ routerRtpCapabilities: joined.routerRtpCapabilities as types.RtpCapabilities });
      this.device = device;
      this.sendTransport = await this.createTransport('send');
      this.recvTransport = await this.createTransport('recv');

      for (const track of stream.getTracks()) {
        await this.produce(track, track.kind === 'audio' ? 'mic' : 'camera');
      }
      for (const p of joined.producers) this.queueConsume(p);
      await this.consumeChain;
      this.update({ state: 'joined' });
    } catch (err) {
      this.update({
        state: 'failed',
        error: err instanceof Error ? err.message : String(err),
        errorCode: err instanceof RequestError ? err.code : undefined,
      });
      throw err;
    }
  }

  /** Doctor only: end the consultation for everyone. */
  async endConsultation(): Promise<void> {
    await this.signalling.request('endConsultation', {});
    this.teardown('ended');
  }

  /** Mute/unmute, camera off/on: a paused producer sends no RTP at all. */
  setSending(source: MediaSource, on: boolean): void {
    const p = this.producer(source);
    if (!p) return;
    if (on) p.resume();
    else p.pause();
    this.update({ sending: { ...this.current.sending, [source]: on } });
  }

  /** Shares a screen track (encrypted like the camera); it stops when the track ends. */
  async startScreenShare(track: MediaStreamTrack): Promise<void> {
    if (this.producer('screen')) return;
    const producer = await this.produce(track, 'screen');
    track.addEventListener('ended', () => void this.stopScreenShare());
    this.update({ sending: { ...this.current.sending, screen: !producer.paused } });
  }

  async stopScreenShare(): Promise<void> {
    const p = this.producer('screen');
    if (!p) return;
    p.close();
    p.track?.stop();
    this.producers.delete(p.id);
    this.update({ sending: { ...this.current.sending, screen: false } });
    await this.signalling.request('closeProducer', { producerId: p.id }).catch(() => undefined);
  }

  /** RTCStatsReports of both transports (network-quality hint). */
  async transportStats(): Promise<RTCStatsReport[]> {
    const out: RTCStatsReport[] = [];
    for (const t of [this.sendTransport, this.recvTransport]) if (t && !t.closed) out.push(await t.getStats());
    return out;
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

  private teardown(state: 'left' | 'ended'): void {
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.signalling.close();
    this.participants.clear();
    this.update({ state, participants: [], sending: { mic: false, camera: false, screen: false } });
  }

  /** Producers by source, for controls and test hooks. */
  producer(source: MediaSource): types.Producer | undefined {
    for (const p of this.producers.values()) if ((p.appData as { source?: string }).source === source) return p;
    return undefined;
  }

  /** Asks the SFU for a keyframe on every video stream from `peerId` (e.g. once its key is known). */
  requestKeyFrames(peerId: string): void {
    // At most one request per participant per second: a keyframe is costly.
    const now = Date.now();
    if (now - (this.keyFrameAsked.get(peerId) ?? 0) < 1000) return;
    this.keyFrameAsked.set(peerId, now);
    for (const [consumerId, c] of this.consumers) {
      if (c.peerId !== peerId || c.consumer.kind !== 'video') continue;
      this.signalling.request('requestKeyFrame', { consumerId }).catch(() => undefined);
    }
  }

  consumerEntries(): { consumer: types.Consumer; peerId: string }[] {
    return [...this.consumers.values()];
  }

  private listen(): void {
    const s = this.signalling;
    s.on('peerJoined', (p) => this.addParticipant(p));
    s.on('peerLeft', ({ peerId }) => {
      this.participants.delete(peerId);
      const gone: types.Consumer[] = [];
      for (const [id, c] of this.consumers) {
        if (c.peerId === peerId) {
          gone.push(c.consumer);
          this.consumers.delete(id);
        }
      }
      this.emit();
      // The SFU already stopped these streams. Closing them renegotiates the
      // receive connection, which pauses all incoming video for ~0.3 s on a
      // busy machine; doing it while everyone switches keys (a leave triggers
      // a rekey) made the two pauses add up. So close them a moment later.
      setTimeout(() => gone.forEach((c) => c.close()), LEAVER_CLOSE_DELAY_MS);
    });
    s.on('newProducer', (p) => this.queueConsume(p));
    s.on('consultationEnded', () => this.teardown('ended'));
    s.on('consumerClosed', ({ consumerId }) => this.removeConsumer(consumerId));
  }

  private addParticipant(p: PeerInfo): void {
    if (!this.participants.has(p.peerId)) {
      this.participants.set(p.peerId, { peerId: p.peerId, displayName: p.displayName, role: p.role, tracks: [] });
      this.emit();
    }
  }

  private async createTransport(direction: 'send' | 'recv'): Promise<types.Transport> {
    const device = this.device;
    if (!device) throw new Error('device not loaded');
    const options = await this.signalling.request('createTransport', { direction });
    const params = {
      id: options.id,
      iceParameters: options.iceParameters,
      iceCandidates: options.iceCandidates as types.IceCandidate[],
      dtlsParameters: options.dtlsParameters as types.DtlsParameters,
      additionalSettings: this.transformer?.peerConnectionSettings,
    };
    const transport = direction === 'send' ? device.createSendTransport(params) : device.createRecvTransport(params);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.signalling
        .request('connectTransport', {
          transportId: transport.id,
          dtlsParameters: dtlsParameters as never,
        })
        .then(() => callback(), errback);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        this.signalling
          .request('produce', {
            transportId: transport.id,
            kind,
            rtpParameters: rtpParameters as never,
            source: (appData as { source: MediaSource }).source,
          })
          .then(({ producerId }) => callback({ id: producerId }), errback);
      });
    }
    return transport;
  }

  private async produce(track: MediaStreamTrack, source: MediaSource): Promise<types.Producer> {
    const transport = this.sendTransport;
    if (!transport) throw new Error('no send transport');
    const producer = await transport.produce({
      track,
      stopTracks: false,
      appData: { source },
      // Paused (muted, camera off) means no RTP at all, not silent/black frames.
      zeroRtpOnPause: true,
      ...(track.kind === 'audio' ? { codecOptions: { opusDtx: false } } : {}),
    });
    if (this.transformer && producer.rtpSender) {
      this.transformer.attachSender(producer.rtpSender, { kind: producer.kind, source });
    }
    this.producers.set(producer.id, producer);
    this.update({ sending: { ...this.current.sending, [source]: true } });
    return producer;
  }

  private queueConsume(info: ProducerInfo): void {
    this.consumeChain = this.consumeChain
      .then(() => this.consume(info))
      .catch((err) => console.warn('consume failed', err));
  }

  private async consume(info: ProducerInfo): Promise<void> {
    const device = this.device;
    const transport = this.recvTransport;
    if (!device || !transport) return;
    const res = await this.signalling.request('consume', {
      transportId: transport.id,
      producerId: info.producerId,
      rtpCapabilities: device.rtpCapabilities as never,
    });
    const consumer = await transport.consume({
      id: res.consumerId,
      producerId: res.producerId,
      kind: res.kind,
      rtpParameters: res.rtpParameters as types.RtpParameters,
    });
    if (this.transformer && consumer.rtpReceiver) {
      this.transformer.attachReceiver(consumer.rtpReceiver, { kind: res.kind, source: res.source, peerId: res.peerId });
    }
    this.consumers.set(consumer.id, { consumer, peerId: res.peerId });
    const participant = this.participants.get(res.peerId);
    if (participant) {
      participant.tracks = [
        ...participant.tracks,
        { consumerId: consumer.id, kind: res.kind, source: res.source, track: consumer.track },
      ];
    }
    await this.signalling.request('resumeConsumer', { consumerId: consumer.id });
    this.emit();
  }

  private removeConsumer(consumerId: string): void {
    const entry = this.consumers.get(consumerId);
    if (!entry) return;
    entry.consumer.close();
    this.consumers.delete(consumerId);
    const participant = this.participants.get(entry.peerId);
    if (participant) participant.tracks = participant.tracks.filter((t) => t.consumerId !== consumerId);
    this.emit();
  }

  private update(patch: Partial<CallSnapshot>): void {
    this.current = { ...this.current, ...patch };
    this.notify();
  }

  private emit(): void {
    this.update({ participants: [...this.participants.values()].map((p) => ({ ...p })) });
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}
