/**
 * What a tab remembers about the call it is in, so a reload (or a crash of
 * the page) brings it straight back: sessionStorage, which lives no longer
 * than the tab and is never sent to the server. Per consultation:
 * - `inCall`: we were in the call (skip the device check, rejoin at once);
 * - `waiting`: we were in the waiting room (skip the device check, wait again);
 * - `name`: the name the patient gave (also kept in localStorage, so a
 *   return to the link later fills it in);
 * - `rejoinToken`: an admitted patient's rejoin credential (issued by the
 *   server at its first join; lets it back without being admitted again);
 * - `devices`: the camera and microphone chosen in the device check.
 * @module
 */

export interface CallMemory {
  inCall?: boolean;
  waiting?: boolean;
  name?: string;
  rejoinToken?: string;
  devices?: { audio?: string; video?: string };
}

const key = (consultationId: string) => `confide.call.${consultationId}`;
const nameKey = (consultationId: string) => `confide.name.${consultationId}`;

function parse(raw: string | null): CallMemory {
  if (!raw) return {};
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    const out: CallMemory = {};
    if (v.inCall === true) out.inCall = true;
    if (v.waiting === true) out.waiting = true;
    if (typeof v.name === 'string' && v.name.length <= 64) out.name = v.name;
    if (typeof v.rejoinToken === 'string' && /^[A-Za-z0-9_-]{43}$/.test(v.rejoinToken)) out.rejoinToken = v.rejoinToken;
    const d = v.devices as Record<string, unknown> | undefined;
    if (d && typeof d === 'object') {
      out.devices = {};
      if (typeof d.audio === 'string' && d.audio.length <= 256) out.devices.audio = d.audio;
      if (typeof d.video === 'string' && d.video.length <= 256) out.devices.video = d.video;
    }
    return out;
  } catch {
    return {};
  }
}

export const callMemory = {
  /** What this tab remembers for `consultationId` (empty when nothing, or storage is unavailable). */
  load(consultationId: string): CallMemory {
    try {
      const m = parse(window.sessionStorage.getItem(key(consultationId)));
      const name = m.name ?? window.localStorage.getItem(nameKey(consultationId)) ?? undefined;
      return name && name.length <= 64 ? { ...m, name } : m;
    } catch {
      return {};
    }
  },
  /** Merges `patch` into what is remembered. */
  update(consultationId: string, patch: CallMemory): void {
    try {
      const next = { ...parse(window.sessionStorage.getItem(key(consultationId))), ...patch };
      window.sessionStorage.setItem(key(consultationId), JSON.stringify(next));
      if (patch.name) window.localStorage.setItem(nameKey(consultationId), patch.name);
    } catch {
      // not remembered: a reload goes through the device check again
    }
  },
  /** The call is over for this tab (ended, declined, replaced): forget how to come back, and the name. */
  forget(consultationId: string): void {
    try {
      window.sessionStorage.removeItem(key(consultationId));
      window.localStorage.removeItem(nameKey(consultationId));
    } catch {
      // nothing to forget
    }
  },
};
