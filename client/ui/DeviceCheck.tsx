import { useCallback, useEffect, useRef, useState } from 'react';
import { useI18n } from './i18n.tsx';
import { frameEncryptionApi } from '../e2ee/support.ts';
import { BrowserUnsupported } from './BrowserUnsupported.tsx';

interface Props {
  onReady: (stream: MediaStream) => void;
  children?: React.ReactNode; // extra fields (e.g. the patient's name) above "Continue"
  canContinue?: boolean;
}

/**
 * Camera preview, microphone level, device choice, and plain help when access
 * fails. A browser that cannot encrypt media frames gets BrowserUnsupported
 * instead: the camera is never asked for and no call can start.
 */
export function DeviceCheck(props: Props) {
  return frameEncryptionApi() ? <DeviceCheckForm {...props} /> : <BrowserUnsupported />;
}

function DeviceCheckForm({ onReady, children, canContinue = true }: Props) {
  const { t } = useI18n();
  const [stream, setStream] = useState<MediaStream>();
  const [problem, setProblem] = useState<'permissionDenied' | 'noDevice' | 'deviceError'>();
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  const [camId, setCamId] = useState('');
  const [micId, setMicId] = useState('');
  const [level, setLevel] = useState(0);
  const videoRef = useRef<HTMLVideoElement>(null);
  const handedOver = useRef(false);

  // The stream on screen, and the newest getUserMedia: one that resolves late
  // (a device change, the check left) must never stop what the call is
  // sending, replace the chosen devices, nor leave a second capture open.
  const current = useRef<MediaStream | undefined>(undefined);
  const request = useRef(0);

  const start = useCallback(async () => {
    setProblem(undefined);
    const mine = ++request.current;
    try {
      const s = await navigator.mediaDevices.getUserMedia({
        audio: micId ? { deviceId: { exact: micId } } : true,
        video: { width: 640, height: 480, ...(camId ? { deviceId: { exact: camId } } : {}) },
      });
      if (handedOver.current || mine !== request.current) {
        s.getTracks().forEach((tr) => tr.stop());
        return;
      }
      current.current?.getTracks().forEach((tr) => tr.stop());
      current.current = s;
      setStream(s);
      setDevices((await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind !== 'audiooutput'));
    } catch (err) {
      if (mine !== request.current) return;
      const name = err instanceof DOMException ? err.name : '';
      setProblem(
        name === 'NotAllowedError' || name === 'SecurityError'
          ? 'permissionDenied'
          : name === 'NotFoundError' || name === 'OverconstrainedError'
            ? 'noDevice'
            : 'deviceError',
      );
    }
  }, [camId, micId]);

  useEffect(() => {
    void start();
  }, [start]);

  useEffect(() => {
    if (videoRef.current) videoRef.current.srcObject = stream ?? null;
    const track = stream?.getAudioTracks()[0];
    if (!track) return;
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    const data = new Uint8Array(analyser.fftSize);
    let raf = 0;
    const tick = () => {
      analyser.getByteTimeDomainData(data);
      let peak = 0;
      for (const v of data) peak = Math.max(peak, Math.abs(v - 128));
      setLevel(Math.min(1, peak / 64));
      raf = requestAnimationFrame(tick);
    };
    tick();
    return () => {
      cancelAnimationFrame(raf);
      void ctx.close();
    };
  }, [stream]);

  // Tracks stop when the check is left, unless they were handed to the call.
  useEffect(
    () => () => {
      request.current++; // what is still on its way is stale now
      if (!handedOver.current) current.current?.getTracks().forEach((tr) => tr.stop());
    },
    [],
  );

  const cams = devices.filter((d) => d.kind === 'videoinput');
  const mics = devices.filter((d) => d.kind === 'audioinput');
  return (
    <section className="card device-check" aria-labelledby="device-title" data-testid="device-check">
      <h2 id="device-title">{t('deviceCheck')}</h2>
      <video ref={videoRef} autoPlay playsInline muted className="preview" aria-label={t('camera')} />
      <label htmlFor="mic-level">{t('micLevel')}</label>
      <meter id="mic-level" min={0} max={1} low={0.05} high={0.8} value={level} data-testid="mic-level" />
      <div className="grid-2">
        <div className="stack">
          <label htmlFor="cam-select">{t('camera')}</label>
          <select id="cam-select" value={camId} onChange={(e) => setCamId(e.target.value)}>
            {cams.map((d, i) => (
              <option key={d.deviceId || i} value={d.deviceId}>
                {d.label || `${t('camera')} ${i + 1}`}
              </option>
            ))}
          </select>
        </div>
        <div className="stack">
          <label htmlFor="mic-select">{t('microphone')}</label>
          <select id="mic-select" value={micId} onChange={(e) => setMicId(e.target.value)}>
            {mics.map((d, i) => (
              <option key={d.deviceId || i} value={d.deviceId}>
                {d.label || `${t('microphone')} ${i + 1}`}
              </option>
            ))}
          </select>
        </div>
      </div>
      {problem ? (
        <div role="alert" className="banner danger">
          <p>{t(problem)}</p>
          <button type="button" onClick={() => void start()}>
            {t('tryAgain')}
          </button>
        </div>
      ) : null}
      {children}
      <button
        type="button"
        data-testid="device-continue"
        disabled={!stream || !canContinue}
        onClick={() => {
          // The live stream, not the one this render saw: a newer one may have replaced (and stopped) it since.
          const live = current.current;
          if (!live) return;
          handedOver.current = true;
          onReady(live);
        }}
      >
        {t('continue')}
      </button>
    </section>
  );
}
