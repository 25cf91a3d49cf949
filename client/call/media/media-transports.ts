/**
 * A participant's media plumbing toward the SFU: the mediasoup-client
 * Device, one send and one receive transport, a producer per local track and
 * a consumer per remote track. Every RTCRtpSender/Receiver is handed to the
 * FrameTransformer (E2EE) before media flows.
 *
 * It combines both transports' connection states into one value and reports
 * it only when it changes (LiveKit's PCTransportManager does the same), so
 * the connection owner can restart ICE when media breaks while signalling is
 * fine. It knows nothing about participants or keys.
 * @module
 */
import { Device, types } from 'mediasoup-client';
import type { MediaSource, ProducerInfo, ResponseOf } from '../../../shared/protocol/signalling.ts';
import type { SignallingClient } from '../signalling-client.ts';
import type { FrameTransformer } from '../frame-transformer.ts';

/**
 * Which network paths the transports may use: all (a call), or one at a
 * time (the connection check): only the SFU's UDP candidate, only its TCP
 * one, or only the TURN relay.
 */
export type IcePath = 'any' | 'udp' | 'tcp' | 'relay';

/** The worse of the two transports' states (mediasoup-client ConnectionState). */
export type MediaState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

export interface ConsumedTrack {
  consumer: types.Consumer;
  producerId: string;
  peerId: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  /** The sender had it paused when we started consuming it. */
  producerPaused: boolean;
}

const STATE_RANK: Record<MediaState, number> = { closed: 0, connected: 1, new: 2, connecting: 3, disconnected: 4, failed: 5 };

export class MediaTransports {
  private device: Device | undefined;
  private loadedCaps: string | undefined;
  private sendTransport: types.Transport | undefined;
  private recvTransport: types.Transport | undefined;
  private readonly producers = new Map<string, types.Producer>();
  private readonly consumers = new Map<string, ConsumedTrack>();
  private consumeChain: Promise<void> = Promise.resolve();
  /** What each track being produced is sent as, for the transform attached inside send (see createTransport). */
  private readonly sourceOf = new WeakMap<MediaStreamTrack, MediaSource>();
  private state: MediaState = 'new';
  private closed = false;

  /** `onState`: the combined transport state changed; `path`: which network paths ICE may use. */
  constructor(
    private readonly signalling: SignallingClient,
    private readonly transformer: FrameTransformer | undefined,
    private readonly onState: (state: MediaState) => void,
    private readonly path: IcePath = 'any',
  ) {}

  get mediaState(): MediaState {
    return this.state;
  }

  /**
   * Loads the Device (or reuses `previous`, loaded for the same Router
   * capabilities: a media rebuild after a worker crash skips a probe of the
   * browser) and opens both transports. Throws a RequestError if the server refuses.
   */
  async open(routerRtpCapabilities: ResponseOf<'join'>['routerRtpCapabilities'], previous?: MediaTransports): Promise<void> {
    const caps = JSON.stringify(routerRtpCapabilities);
    let device = previous?.device;
    if (!device || previous?.loadedCaps !== caps) {
      device = new Device();
      await device.load({ routerRtpCapabilities: routerRtpCapabilities as types.RtpCapabilities });
    }
    this.device = device;
    this.loadedCaps = caps;
    // Both at once: after a reload or a worker crash every round trip counts.
    [this.sendTransport, this.recvTransport] = await Promise.all([this.createTransport('send'), this.createTransport('recv')]);
  }

  /** Sends `track` as `source`; `paused` starts it paused (muted, camera off). */
  async produce(track: MediaStreamTrack, source: MediaSource, paused = false): Promise<types.Producer> {
    const transport = this.sendTransport;
    if (!transport) throw new Error('no send transport');
    this.sourceOf.set(track, source);
    const producer = await transport.produce({
      track,
      stopTracks: false,
      appData: { source },
      // Paused (muted, camera off) means no RTP at all, not silent/black frames.
      zeroRtpOnPause: true,
      ...(track.kind === 'audio' ? { codecOptions: { opusDtx: false } } : {}),
    });
    this.producers.set(producer.id, producer);
    if (paused) await this.setPaused(producer, true);
    return producer;
  }

  /** Pauses or resumes a producer here and at the SFU (the others are told, to show muted / camera off). */
  async setPaused(producer: types.Producer, paused: boolean): Promise<void> {
    if (paused) producer.pause();
    else producer.resume();
    await this.signalling.request('pauseProducer', { producerId: producer.id, paused }).catch(() => undefined);
  }

  producer(source: MediaSource): types.Producer | undefined {
    for (const p of this.producers.values()) if ((p.appData as { source?: string }).source === source) return p;
    return undefined;
  }

  /** Stops sending `source` (screen share): closes its producer here and at the SFU. */
  async closeProducer(source: MediaSource): Promise<void> {
    const p = this.producer(source);
    if (!p) return;
    p.close();
    this.producers.delete(p.id);
    await this.signalling.request('closeProducer', { producerId: p.id }).catch(() => undefined);
  }

  /**
   * Consumes a remote producer (one at a time, in order) and resolves with
   * its track, or undefined when it could not (logged; the producer may have
   * closed meanwhile).
   */
  consume(info: ProducerInfo): Promise<ConsumedTrack | undefined> {
    const run = this.consumeChain.then(() => this.consumeNow(info));
    this.consumeChain = run.then(
      () => undefined,
      () => undefined,
    );
    return run.catch((err: unknown) => {
      if (!this.closed) console.warn('consume failed', err);
      return undefined;
    });
  }

  /** Waits for the consumes queued so far. */
  consumed(): Promise<void> {
    return this.consumeChain;
  }

  /** Closes one consumer (the SFU closed it, or its producer went away); returns what it was. */
  removeConsumer(consumerId: string): ConsumedTrack | undefined {
    const entry = this.consumers.get(consumerId);
    if (!entry) return undefined;
    entry.consumer.close();
    this.consumers.delete(consumerId);
    return entry;
  }

  /** Forgets `peerId`'s consumers at once, and closes them after `delayMs` (see CallSession). */
  dropConsumersOf(peerId: string, delayMs: number): void {
    const gone: types.Consumer[] = [];
    for (const [id, c] of this.consumers) {
      if (c.peerId === peerId) {
        gone.push(c.consumer);
        this.consumers.delete(id);
      }
    }
    if (gone.length) setTimeout(() => gone.forEach((c) => c.close()), delayMs);
  }

  consumerEntries(): ConsumedTrack[] {
    return [...this.consumers.values()];
  }

  /**
   * ICE restart on both transports (after a signalling resume, or when media
   * broke): new ICE parameters from the SFU, handed to the browser. Producers
   * and consumers stay.
   */
  async restartIce(): Promise<void> {
    // Both at once: each is a round trip and a renegotiation of its own peer connection.
    await Promise.all(
      [this.sendTransport, this.recvTransport].map(async (t) => {
        if (!t || t.closed) return;
        const { iceParameters, iceServers } = await this.signalling.request('restartIce', { transportId: t.id });
        // Fresh TURN credentials first: those the transport was made with may have expired.
        if (iceServers) await t.updateIceServers({ iceServers });
        await t.restartIce({ iceParameters: iceParameters as types.IceParameters });
      }),
    );
  }

  /** RTCStatsReports of both transports. */
  async stats(): Promise<RTCStatsReport[]> {
    const out: RTCStatsReport[] = [];
    for (const t of [this.sendTransport, this.recvTransport]) if (t && !t.closed) out.push(await t.getStats());
    return out;
  }

  /** Closes everything (both transports close their producers and consumers). */
  close(): void {
    this.closed = true;
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.producers.clear();
    this.consumers.clear();
    this.setState('closed');
  }

  private async consumeNow(info: ProducerInfo): Promise<ConsumedTrack | undefined> {
    const device = this.device;
    const transport = this.recvTransport;
    if (!device || !transport || this.closed) return undefined;
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
    const entry: ConsumedTrack = {
      consumer,
      producerId: res.producerId,
      peerId: res.peerId,
      kind: res.kind,
      source: res.source,
      producerPaused: res.producerPaused,
    };
    this.consumers.set(consumer.id, entry);
    await this.signalling.request('resumeConsumer', { consumerId: consumer.id });
    return entry;
  }

  private async createTransport(direction: 'send' | 'recv'): Promise<types.Transport> {
    const device = this.device;
    if (!device) throw new Error('device not loaded');
    const options = await this.signalling.request('createTransport', { direction });
    const path = this.path;
    const direct = path === 'udp' || path === 'tcp';
    const params = {
      id: options.id,
      iceParameters: options.iceParameters,
      iceCandidates: options.iceCandidates.filter((c) => !direct || c.protocol === path) as types.IceCandidate[],
      dtlsParameters: options.dtlsParameters as types.DtlsParameters,
      // The server's TURN relay (UDP, TCP, TLS), for networks that block direct media to the SFU.
      ...(options.iceServers && !direct ? { iceServers: options.iceServers } : {}),
      ...(path === 'relay' ? { iceTransportPolicy: 'relay' as const } : {}),
      additionalSettings: this.transformer?.peerConnectionSettings,
    };
    const transport = direction === 'send' ? device.createSendTransport(params) : device.createRecvTransport(params);
    if (direction === 'send') this.encryptBeforeProducing(transport);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.signalling
        .request('connectTransport', { transportId: transport.id, dtlsParameters: dtlsParameters as never })
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
    transport.on('connectionstatechange', () => this.combineStates());
    return transport;
  }

  /**
   * Attaches each new RTCRtpSender's transform as soon as mediasoup-client
   * has negotiated it, before the 'produce' event asks the SFU for a
   * producer. Chromium would hold frames until then anyway
   * (encodedInsertableStreams); Firefox and Safari start sending at once, and
   * the SFU drops RTP for which it has no producer yet — so no frame can be
   * relayed before it is encrypted. If attaching fails, the sender is
   * stopped and produce() rejects.
   */
  private encryptBeforeProducing(transport: types.Transport): void {
    const transformer = this.transformer;
    if (!transformer) return;
    const handler = transport.handler;
    const send = handler.send.bind(handler);
    handler.send = async (options) => {
      const sent = await send(options);
      try {
        const source = this.sourceOf.get(options.track);
        if (!sent.rtpSender || !source) throw new Error('no RTCRtpSender to encrypt');
        transformer.attachSender(sent.rtpSender, { kind: options.track.kind as 'audio' | 'video', source });
      } catch (err) {
        await handler.stopSending(sent.localId).catch(() => undefined);
        throw err;
      }
      return sent;
    };
  }

  private combineStates(): void {
    let worst: MediaState = 'closed';
    for (const t of [this.sendTransport, this.recvTransport]) {
      if (!t) continue;
      const s = t.connectionState as MediaState;
      if (STATE_RANK[s] > STATE_RANK[worst]) worst = s;
    }
    this.setState(worst);
  }

  private setState(state: MediaState): void {
    if (state === this.state) return;
    this.state = state;
    this.onState(state);
  }
}
