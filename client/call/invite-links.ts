// Invite links. The room secret (and the patient's token) ride in the URL
// fragment, which browsers never send to servers.
import { bytesToHex } from '@noble/hashes/utils.js';
import { parseRoomSecretFragment, roomSecretFragment } from '../../shared/crypto/room-secret.ts';

export function doctorLink(origin: string, consultationId: string, secret: Uint8Array): string {
  return `${origin}/consultation/${consultationId}#${roomSecretFragment(secret)}`;
}

export function patientLink(origin: string, consultationId: string, token: string, secret: Uint8Array): string {
  return `${origin}/join/${consultationId}#t=${encodeURIComponent(token)}&${roomSecretFragment(secret)}`;
}

export interface Fragment {
  secret: Uint8Array | undefined;
  token: string | undefined;
}

export function readFragment(hash: string): Fragment {
  const t = new URLSearchParams(hash.replace(/^#/, '')).get('t');
  return {
    secret: parseRoomSecretFragment(hash),
    token: t && /^[A-Za-z0-9_-]{16,128}$/.test(t) ? t : undefined,
  };
}

const SECRET_PREFIX = 'confide.secret.';
/** How long a secret saved without its consultation's expiry is kept: until a join tells the real one. */
export const REMEMBER_FALLBACK_MS = 24 * 60 * 60 * 1000;
let purged = false;

/** One stored entry: `{"k": <64 hex>, "exp": <ms since the epoch>}` (older entries: the bare hex, no expiry). */
function readEntry(raw: string | null): { secret: Uint8Array; exp: number | undefined } | undefined {
  if (!raw) return undefined;
  let hex = raw;
  let exp: number | undefined;
  if (raw.startsWith('{')) {
    try {
      const v = JSON.parse(raw) as { k?: unknown; exp?: unknown };
      hex = typeof v.k === 'string' ? v.k : '';
      exp = typeof v.exp === 'number' && Number.isFinite(v.exp) ? v.exp : undefined;
    } catch {
      return undefined;
    }
  }
  const secret = parseRoomSecretFragment(`k=${hex}`);
  return secret && { secret, exp };
}

function writeEntry(consultationId: string, secret: Uint8Array, exp: number): void {
  window.localStorage.setItem(`${SECRET_PREFIX}${consultationId}`, JSON.stringify({ k: bytesToHex(secret), exp }));
}

/** Removes every remembered secret past its expiry, or unreadable (once per page). */
function purgeExpired(now: number): void {
  if (purged) return;
  purged = true;
  const keys: string[] = [];
  for (let i = 0; i < window.localStorage.length; i++) {
    const k = window.localStorage.key(i);
    if (k?.startsWith(SECRET_PREFIX)) keys.push(k);
  }
  for (const k of keys) {
    const e = readEntry(window.localStorage.getItem(k));
    if (!e || (e.exp !== undefined && e.exp <= now)) window.localStorage.removeItem(k);
  }
}

/**
 * The doctor's browser remembers each consultation's secret, so the
 * dashboard can open it later — until the consultation ends (the call hears
 * `consultationEnded`) or its links expire (the expiry is stored with it;
 * docs/threat-model.md). Storage failures are silent: the link still works.
 */
export const rememberedSecrets = {
  /**
   * Remembers `secret` until `expiresAt` (ms since the epoch). Without it, an
   * expiry already stored for the same secret stays, else now + REMEMBER_FALLBACK_MS.
   */
  save(consultationId: string, secret: Uint8Array, expiresAt?: number): void {
    try {
      const held = readEntry(window.localStorage.getItem(`${SECRET_PREFIX}${consultationId}`));
      const kept = held && held.exp !== undefined && bytesToHex(held.secret) === bytesToHex(secret) ? held.exp : undefined;
      writeEntry(consultationId, secret, expiresAt ?? kept ?? Date.now() + REMEMBER_FALLBACK_MS);
    } catch {
      // not remembered: the link still works
    }
  },
  /** The remembered secret, if any and not expired (an expired one is erased). */
  load(consultationId: string): Uint8Array | undefined {
    try {
      const now = Date.now();
      purgeExpired(now);
      const key = `${SECRET_PREFIX}${consultationId}`;
      const e = readEntry(window.localStorage.getItem(key));
      if (!e) return undefined;
      if (e.exp !== undefined && e.exp <= now) {
        window.localStorage.removeItem(key);
        return undefined;
      }
      // An entry from before expiries were stored gets the fallback from now on.
      if (e.exp === undefined) writeEntry(consultationId, e.secret, now + REMEMBER_FALLBACK_MS);
      return e.secret;
    } catch {
      return undefined;
    }
  },
  /** Sets the expiry of a remembered secret (the join answer tells when the links stop working). */
  expireAt(consultationId: string, expiresAt: number): void {
    try {
      const e = readEntry(window.localStorage.getItem(`${SECRET_PREFIX}${consultationId}`));
      if (e) writeEntry(consultationId, e.secret, expiresAt);
    } catch {
      // kept until the fallback expiry
    }
  },
  /** Erases the consultation's secret (it ended). */
  forget(consultationId: string): void {
    try {
      window.localStorage.removeItem(`${SECRET_PREFIX}${consultationId}`);
    } catch {
      // nothing to erase
    }
  },
};
