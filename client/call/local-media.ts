/**
 * The camera and microphone a call sends, opened again without asking the
 * user when a tab comes back into its call (reload): the devices chosen in
 * the device check, remembered per tab (call-memory.ts), or the defaults
 * when those are gone.
 * @module
 */
import type { CallMemory } from './call-memory.ts';

/** 640×480 video, as the device check opens it. Throws getUserMedia's DOMException when refused. */
export async function openLocalMedia(devices: CallMemory['devices'] = {}): Promise<MediaStream> {
  const video = { width: 640, height: 480 };
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: devices.audio ? { deviceId: { exact: devices.audio } } : true,
      video: devices.video ? { ...video, deviceId: { exact: devices.video } } : video,
    });
  } catch (err) {
    // A remembered device that went away (unplugged headset): take the defaults.
    if (err instanceof DOMException && (err.name === 'OverconstrainedError' || err.name === 'NotFoundError') && (devices.audio || devices.video)) {
      return navigator.mediaDevices.getUserMedia({ audio: true, video });
    }
    throw err;
  }
}

/** The device ids a stream uses, to remember them for a reload. */
export function devicesOf(stream: MediaStream): NonNullable<CallMemory['devices']> {
  const audio = stream.getAudioTracks()[0]?.getSettings().deviceId;
  const video = stream.getVideoTracks()[0]?.getSettings().deviceId;
  return { ...(audio ? { audio } : {}), ...(video ? { video } : {}) };
}
