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

/** The doctor's browser remembers each consultation's secret, so the dashboard can open it later. */
export const rememberedSecrets = {
  save(consultationId: string, secret: Uint8Array): void {
    try {
      window.localStorage.setItem(`confide.secret.${consultationId}`, bytesToHex(secret));
    } catch {
      // not remembered: the link still works
    }
  },
  load(consultationId: string): Uint8Array | undefined {
    try {
      return parseRoomSecretFragment(`k=${window.localStorage.getItem(`confide.secret.${consultationId}`) ?? ''}`);
    } catch {
      return undefined;
    }
  },
};
