// Which room secret the doctor's page uses for a consultation (issue 12, item
// 10). The doctor's browser remembers each consultation's secret; a link whose
// `#k=` differs from the remembered one must never replace it silently: that
// is exactly what a forged link would try (the call would then run under a
// key its sender knows). The page asks instead.

/** What to do with the link's secret and the remembered one. */
export type SecretChoice =
  | { kind: 'none' }
  | { kind: 'use'; secret: Uint8Array; remember: boolean }
  | { kind: 'conflict'; fromLink: Uint8Array; remembered: Uint8Array };

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * `fromLink`: the secret in the opened URL's fragment; `remembered`: the one
 * this browser kept. Only one of them, or both equal: use it (remember the
 * link's if it is new). Both, different: a conflict the doctor must settle.
 */
export function chooseSecret(fromLink: Uint8Array | undefined, remembered: Uint8Array | undefined): SecretChoice {
  if (fromLink && remembered && !same(fromLink, remembered)) return { kind: 'conflict', fromLink, remembered };
  if (fromLink) return { kind: 'use', secret: fromLink, remember: !remembered };
  if (remembered) return { kind: 'use', secret: remembered, remember: false };
  return { kind: 'none' };
}
