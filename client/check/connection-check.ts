/**
 * The pre-appointment connection check (issue 15): what a patient can run
 * from the invite link the day before, with no admission and no access to
 * the consultation. In order: camera and microphone; the browser's frame
 * encryption; the signalling connection (`startCheck` with the link's
 * token: a room of its own on the SFU); then media over UDP, over TCP, and
 * through the TURN relay, one path at a time — each an encrypted loopback:
 * the page's own camera frames go out SFrame-encrypted with a key drawn
 * here, through the SFU, and must come back and decrypt. A path passes when
 * frames decode after decryption within PATH_TIMEOUT_MS.
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

export const CHECK_STEPS: CheckStep[] = ['devices', 'encryption', 'signalling', 'udp', 'tcp', 'relay'];
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
  const done = (): { results: CheckResults; verdict: Verdict } => {
    for (const s of CHECK_STEPS) if (results[s] === 'pending') set(s, 'skipped');
    return { results: { ...results }, verdict: linkRefused ? 'link' : verdictOf(results) };
  };
  try {
    set('devices', 'running');
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      set('devices', 'ok');
    } catch {
      set('devices', 'failed');
    }
    set('encryption', frameEncryptionApi() ? 'ok' : 'failed');
    const track = stream?.getVideoTracks()[0];
    if (results.encryption === 'failed' || !track) return done();

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
    // A key of our own, for our own frames both ways: the SFU relays only ciphertext.
    e2ee = new E2eeManager();
    const key = crypto.getRandomValues(new Uint8Array(32));
    await e2ee.addRemoteKey(started.peerId, 1n, key);
    await e2ee.setLocalKey(1n, key, { keyFrame: true });
    for (const path of ['udp', 'tcp', 'relay'] as const) {
      set(path, 'running');
      set(path, (await loopback(signalling, e2ee, started.routerRtpCapabilities, started.peerId, stream!, path)) ? 'ok' : 'failed');
    }
    return done();
  } finally {
    stream?.getTracks().forEach((t) => t.stop());
    await signalling?.request('leave', {}).catch(() => undefined);
    signalling?.close();
    e2ee?.close();
  }
}
