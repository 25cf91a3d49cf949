/** True where the browser can share a screen (desktop browsers; most phones cannot). */
export function canShareScreen(): boolean {
  return typeof navigator !== 'undefined' && !!navigator.mediaDevices && 'getDisplayMedia' in navigator.mediaDevices;
}

/**
 * Asks the user which screen or window to share (video only).
 * Resolves to the track, or undefined when the user cancels the picker or
 * the browser refuses (NotAllowedError): cancelling is not an error.
 */
export async function pickScreen(): Promise<MediaStreamTrack | undefined> {
  try {
    const display = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    return display.getVideoTracks()[0];
  } catch {
    return undefined;
  }
}
