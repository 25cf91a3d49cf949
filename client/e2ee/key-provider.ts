// What key agreement (or a test) uses to give the frame Worker its keys.
export interface KeyProvider {
  /** The key this participant encrypts with from now on, under `kid`. */
  setLocalKey(kid: bigint, baseKey: Uint8Array, opts?: { keyFrame: boolean }): Promise<void>;
  /** Stop sending (no key → no media leaves). */
  clearLocalKey(): void;
  /** A remote sender's key; frames under `kid` are accepted only on that participant's streams. */
  addRemoteKey(peerId: string, kid: bigint, baseKey: Uint8Array): Promise<void>;
  removeRemoteKey(kid: bigint): void;
}
