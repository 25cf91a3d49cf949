// The one normaliser of people's names, for staff accounts and patients alike
// (issue 12, item 11). A name is shown in the waiting list, on video tiles and
// in the console, so it must be text a person can read: no control characters
// (NUL, ESC…), no bidirectional overrides that reorder what follows (U+202E),
// nothing invisible standing in for a name (zero-width spaces only).
import { z } from 'zod';

/** A control character other than tab and line breaks (which count as spaces): never part of a name, refused. */
const CONTROL = /(?![\t\n\r])\p{Cc}/u;
/**
 * Dropped (they arrive with copy and paste, and show nothing): private-use
 * (Co), unassigned (Cn) and lone surrogates (Cs), line/paragraph separators
 * (Zl, Zp), and every format character (Cf: bidi marks, embeddings,
 * overrides and isolates, zero-width space, word joiner, BOM, soft hyphen…)
 * except the two joiners below; and the blank letters that Unicode classes
 * as letters or symbols yet draw nothing (Hangul fillers U+115F, U+1160,
 * U+3164, U+FFA0; the blank braille pattern U+2800).
 */
const DROPPED = /[\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0\u2800]|(?![\u200C\u200D])\p{Cf}/gu;
/**
 * Also dropped: the other default-ignorable characters, which Unicode classes
 * as combining marks yet draw nothing — the combining grapheme joiner U+034F,
 * variation selectors (U+FE00–FE0F, U+E0100–E01EF), Mongolian free variation
 * selectors, Khmer inherent vowels — so that "Zoé" followed by one of them is
 * the same name as "Zoé" (no second, indistinguishable "Zoé" without its
 * "(2)"). The emoji selectors U+FE0E/FE0F stay after an emoji, where they choose
 * its presentation.
 */
const IGNORABLE = /(?![\u200C\u200D\uFE0E\uFE0F])\p{Default_Ignorable_Code_Point}|(?<!\p{Emoji})[\uFE0E\uFE0F]/gu;
/** More than four combining marks on one character ("Zalgo" text that spills over the lines around it) are cut to four. */
const MARK_PILE = /(\p{M}{4})\p{M}+/gu;
/** Zero-width (non-)joiners shape Persian, Indic and emoji sequences: kept only between two visible characters. */
const STRAY_JOINER = /(?<![\p{L}\p{M}\p{N}\p{S}\p{P}])[\u200C\u200D]+|[\u200C\u200D]+(?![\p{L}\p{M}\p{N}\p{S}\p{P}])/gu;
/** Runs of any kind of space (tabs, no-break, ideographic…) become one ASCII space. */
const SPACES = /[\s\p{Zs}]+/gu;
/** What makes a name visible at all: a letter, digit, punctuation or symbol. */
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/u;

/**
 * `raw` as a name, or undefined when it holds a control character (NUL,
 * ESC…), when nothing readable is left, or when it is longer than `max`
 * UTF-16 code units afterwards. NFC-normalised, invisible characters removed
 * (see DROPPED), spaces collapsed, trimmed.
 * Idempotent: normalizeName(normalizeName(x)) === normalizeName(x). Never throws.
 */
export function normalizeName(raw: string, max: number): string | undefined {
  if (typeof raw !== 'string' || raw.length > 4 * max + 64 || CONTROL.test(raw)) return undefined;
  const name = raw.normalize('NFC').replace(DROPPED, '').replace(IGNORABLE, '').replace(MARK_PILE, '$1').replace(STRAY_JOINER, '').replace(SPACES, ' ').trim();
  if (!VISIBLE.test(name) || name.length > max) return undefined;
  return name;
}

/**
 * A stored name shown where at most `max` code units fit (a doctor's account
 * name in a call): normalised, then cut on a code point boundary.
 */
export function displayNameOf(stored: string, max: number): string {
  const whole = normalizeName(stored, Number.MAX_SAFE_INTEGER) ?? '?';
  if (whole.length <= max) return whole;
  let out = '';
  for (const ch of whole) {
    if (out.length + ch.length > max - 1) break;
    out += ch;
  }
  return `${out.trimEnd()}…`;
}

/** The zod schema of a name field of at most `max` code units: parses to the normalised name. */
export const NameField = (max: number) =>
  z
    .string()
    .max(4 * max + 64)
    .transform((raw, ctx) => {
      const name = normalizeName(raw, max);
      if (name === undefined) {
        ctx.addIssue({ code: 'custom', message: 'must be a readable name' });
        return z.NEVER;
      }
      return name;
    });
