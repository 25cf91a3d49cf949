/**
 * The pre-appointment connection check (issue 15): what a patient can run
 * from the invite link the day before, with no admission and no access to
 * the consultation. In order: the browser's frame encryption; the
 * signalling connection (`startCheck` with the link's token: a room of its
 * own on the SFU), so a dead link is said before the camera is asked for;
 * camera and microphone; then media over UDP, over TCP, and through the TURN
 * relay (when the server has one), one path at a time — each an encrypted
 * loopback: the page's own camera frames (or, without a camera, a drawn
 * picture) go out SFrame-encrypted with a key drawn here, through the SFU,
 * and must come back and decrypt. A path passes when frames decode after
 * decryption within PATH_TIMEOUT_MS.
 * @module
 */
import { SignallingClient } from '../call/signalling-client.ts';
import { MediaTransports, type IcePath } from '../call/media/media-transports.ts';
import { E2eeManager } from '../e2ee/e2ee-manager.ts';
import { frameEncryptionApi } from '../e2ee/support.ts';

export type CheckStep = 'devices' | 'encryption' | 'signalling' | 'udp' | 'tcp' | 'relay';
export type StepState = 'pending' | 'running' | 'ok' | 'failed' | 'skipped';
/** What to tell the patient at the end. */
export type Verdict = 'good' | 'tcp-only' | 'relay-only' | 'blocked' | 'no-devices' | 'unsupported' | 'link' | 'no-server';
export type CheckResults = Record<CheckStep, StepState>;

export const CHECK_STEPS: CheckStep[] = ['encryption', 'signalling', 'devices', 'udp', 'tcp', 'relay'];
/** How long one network path may take to bring frames back (ms). */
export const PATH_TIMEOUT_MS = 8000;
/** Frames that must come back decrypted and decoded for a path to pass. */
const FRAMES_NEEDED = 10;

/** The verdict for a set of results (pure). */
export function verdictOf(r: CheckResults): Verdict {
  if (r.encryption === 'failed') return 'unsupported';
  if (r.devices === 'failed') return 'no-devices';
  if (r.signalling === 'failed') return 'no-server';
  if (r.udp === 'ok') return 'good';
  if (r.tcp === 'ok') return 'tcp-only';
  if (r.relay === 'ok') return 'relay-only';
  return 'blocked';
}

/** Runs one path: transports restricted to it, our camera produced and consumed back. Resolves true when frames decrypted and decoded. */
async function loopback(
  signalling: SignallingClient,
  e2ee: E2eeManager,
  caps: Parameters<MediaTransports['open']>[0],
  peerId: string,
  stream: MediaStream,
  path: IcePath,
): Promise<boolean> {
  const media = new MediaTransports(signalling, e2ee, () => undefined, path);
  const deadline = Date.now() + PATH_TIMEOUT_MS;
  try {
    await media.open(caps);
    // The microphone first, as in a call (its negotiation comes first there too); the camera comes back to us.
    const mic = stream.getAudioTracks()[0];
    if (mic) await media.produce(mic, 'mic');
    const producer = await media.produce(stream.getVideoTracks()[0]!, 'camera');
    const consumed = await media.consume({ producerId: producer.id, peerId, kind: 'video', source: 'camera' });
    if (!consumed) return false;
    const decryptedBefore = (await e2ee.stats()).receivers[peerId]?.decrypted ?? 0;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      let decoded = 0;
      (await consumed.consumer.getStats()).forEach((s: { type: string; framesDecoded?: number }) => {
        if (s.type === 'inbound-rtp') decoded += s.framesDecoded ?? 0;
      });
      const decrypted = ((await e2ee.stats()).receivers[peerId]?.decrypted ?? 0) - decryptedBefore;
      if (decoded >= FRAMES_NEEDED && decrypted >= FRAMES_NEEDED) return true;
    }
    return false;
  } catch (err) {
    // For whoever runs the check with a console open (and npm run check): why this path failed.
    console.warn(`connection check: ${path} failed:`, err instanceof Error ? err.message : String(err));
    return false;
  } finally {
    media.close();
    // The server drops this path's transports too (at most two per participant).
    await signalling.request('rejoinMedia', {}).catch(() => undefined);
  }
}

/** A moving picture (a canvas stream, 640×480, 15 fps) and silence, to send when there is no camera; and how to stop them. */
function drawnStream(): { stream: MediaStream; stop: () => void } {
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 480;
  const ctx = canvas.getContext('2d');
  let frame = 0;
  const draw = () => {
    if (!ctx) return;
    frame++;
    ctx.fillStyle = `hsl(${(frame * 7) % 360} 60% 50%)`;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = '#fff';
    ctx.fillRect((frame * 9) % canvas.width, 200, 80, 80);
  };
  draw();
  const stream = canvas.captureStream(15);
  const timer = setInterval(draw, 66);
  // And silence: the microphone goes first, as in a call (Chromium refuses a send
  // connection whose first track is video here: "RTP extension ID reassignment").
  const audio = new AudioContext();
  const silence = audio.createMediaStreamDestination();
  const gain = audio.createGain();
  gain.gain.value = 0;
  const tone = audio.createOscillator();
  tone.connect(gain).connect(silence);
  tone.start();
  const mic = silence.stream.getAudioTracks()[0];
  const both = new MediaStream([...(mic ? [mic] : []), ...stream.getVideoTracks()]);
  return {
    stream: both,
    stop: () => {
      clearInterval(timer);
      void audio.close();
    },
  };
}

/**
 * Runs every step for the link (`consultationId`, `token`), telling
 * `onUpdate` each change. Never throws: a step that fails is reported, and
 * the steps that depend on it are skipped. Releases the camera, the server's
 * room and the connection at the end.
 */
export async function runConnectionCheck(
  consultationId: string,
  token: string,
  onUpdate: (results: CheckResults) => void,
): Promise<{ results: CheckResults; verdict: Verdict }> {
  const results = Object.fromEntries(CHECK_STEPS.map((s) => [s, 'pending'])) as CheckResults;
  const set = (step: CheckStep, state: StepState) => {
    results[step] = state;
    onUpdate({ ...results });
  };
  let stream: MediaStream | undefined;
  let signalling: SignallingClient | undefined;
  let e2ee: E2eeManager | undefined;
  let linkRefused = false;
  let stopDrawing: (() => void) | undefined;
  const done = (): { results: CheckResults; verdict: Verdict } => {
    for (const s of CHECK_STEPS) if (results[s] === 'pending') set(s, 'skipped');
    return { results: { ...results }, verdict: linkRefused ? 'link' : verdictOf(results) };
  };
  try {
    set('encryption', frameEncryptionApi() ? 'ok' : 'failed');
    if (results.encryption === 'failed') return done();

    set('signalling', 'running');
    signalling = new SignallingClient();
    let started;
    try {
      started = await signalling.request('startCheck', { consultationId, token });
      set('signalling', 'ok');
    } catch (err) {
      const code = (err as { code?: string }).code;
      linkRefused = code === 'forbidden' || code === 'ended' || code === 'expired';
      set('signalling', 'failed');
      return done();
    }

    set('devices', 'running');
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      set('devices', stream.getVideoTracks().length ? 'ok' : 'failed');
    } catch {
      set('devices', 'failed');
    }
    // No camera (refused, missing): the network is still worth testing, with a drawn picture.
    if (!stream?.getVideoTracks()[0]) {
      const drawn = drawnStream();
      stream = drawn.stream;
      stopDrawing = drawn.stop;
    }
    // A key of our own, for our own frames both ways: the SFU relays only ciphertext.
    e2ee = new E2eeManager();
    const key = crypto.getRandomValues(new Uint8Array(32));
    await e2ee.addRemoteKey(started.peerId, 1n, key);
    await e2ee.setLocalKey(1n, key, { keyFrame: true });
    for (const path of ['udp', 'tcp', 'relay'] as const) {
      if (path === 'relay' && !started.relay) continue; // no relay on this server: 'skipped', not 'failed'
      set(path, 'running');
      set(path, (await loopback(signalling, e2ee, started.routerRtpCapabilities, started.peerId, stream, path)) ? 'ok' : 'failed');
    }
    return done();
  } finally {
    stopDrawing?.();
    stream?.getTracks().forEach((t) => t.stop());
    await signalling?.request('leave', {}).catch(() => undefined);
    signalling?.close();
    e2ee?.close();
  }
}
