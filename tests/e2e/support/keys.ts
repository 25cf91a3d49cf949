// Reads the keys a page held (test-only 'observe' hook) and tries them on captured frames.
import type { Page } from 'playwright-core';
import { hexToBytes } from '@noble/hashes/utils.js';
import type { KeyLogEntry } from '../../../client/e2ee/key-agreement-client.ts';
import { decodeHeader } from '../../../shared/crypto/sframe.ts';
import { SFrameReceiver } from '../../../shared/crypto/sframe-receiver.ts';
import { sframeOf, unprotectFrame, type FrameKind } from '../../../shared/crypto/media-frame.ts';
import { SUITE } from '../../../shared/crypto/media-suite.ts';

export type LoggedKey = KeyLogEntry;

export async function keyLog(page: Page): Promise<LoggedKey[]> {
  return page.evaluate(() => (window.__confide?.keyLog as () => LoggedKey[] | undefined)() ?? []);
}

/** True when some key authenticates and decrypts the frame, under the frame's own KID. */
export async function tryDecryptFrame(kind: FrameKind, data: Uint8Array, keys: LoggedKey[]): Promise<boolean> {
  const kid = decodeHeader(sframeOf(kind, data).sframe).kid;
  for (const k of keys) {
    const receiver = new SFrameReceiver(SUITE);
    await receiver.addKey(kid, hexToBytes(k.key));
    try {
      await unprotectFrame(receiver, kind, data);
      return true;
    } catch {
      // not this key
    }
  }
  return false;
}
