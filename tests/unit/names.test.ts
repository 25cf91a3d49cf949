// Issue 12, item 11: one name normaliser (shared/protocol/names.ts) for staff
// and patients. Names that render as nothing, or that carry controls and bidi
// overrides into the waiting list, tiles and console, are refused or cleaned.
import { describe, expect, it } from 'vitest';
import { displayNameOf, normalizeName } from '../../shared/protocol/names.ts';
import { requests, notifications } from '../../shared/protocol/signalling.ts';
import { NewConsultation, NewDoctor } from '../../shared/protocol/staff-schemas.ts';

describe('normalizeName', () => {
  it('refuses names with nothing readable in them', () => {
    for (const bad of ['', '   ', '\u0000', '\u001b', '\u200b\u200b\u200b', '\u202e', '\u200d\u200c', '\ufeff', '\u2028', '\t\n', '\u{e000}']) {
      expect(normalizeName(bad, 64), JSON.stringify(bad)).toBeUndefined();
    }
    // Control characters are never part of a name: refused, not silently removed.
    for (const bad of ['Zo\u00e9\u0000', '\u001b[31mRed', 'Dr\u0007Bell', 'A\u007fB']) {
      expect(normalizeName(bad, 64), JSON.stringify(bad)).toBeUndefined();
    }
  });

  it('removes bidi overrides and invisible characters, and collapses spaces', () => {
    expect(normalizeName('Dr \u202eeliM', 64)).toBe('Dr eliM');
    expect(normalizeName('\u2066Ann\u2069', 64)).toBe('Ann');
    expect(normalizeName('A\u200bnn', 64)).toBe('Ann');
    expect(normalizeName('  Jean\u00a0\u00a0 Dupont\t', 64)).toBe('Jean Dupont');
    expect(normalizeName('Zoe\u0301', 64)).toBe('Zoé'); // NFC
    // Joiners stay where they join something: an emoji sequence, Persian.
    expect(normalizeName('👩\u200d⚕️ Ana', 64)).toBe('👩\u200d⚕️ Ana');
    expect(normalizeName('\u200dAna\u200c', 64)).toBe('Ana');
  });

  it('removes invisible marks, so a name followed by one is the same name (a second "Zoé" still gets its "(2)")', () => {
    // Default-ignorable, yet classed as combining marks: the grapheme joiner, variation selectors, Mongolian and Khmer ones.
    for (const mark of ['\u034f', '\ufe00', '\ufe0f', '\ufe0e', '\u180b', '\u17b4', '\u{e0100}']) {
      expect(normalizeName(`Zoé${mark}`, 64), JSON.stringify(mark)).toBe('Zoé');
      expect(normalizeName(`Zo${mark}é`, 64), JSON.stringify(mark)).toBe('Zoé');
    }
    expect(normalizeName('\u034f\ufe0f', 64)).toBeUndefined();
    // After an emoji, the emoji selector chooses its presentation: kept.
    expect(normalizeName('Ana \u2764\ufe0f', 64)).toBe('Ana \u2764\ufe0f');
  });

  it('refuses blank letters that draw nothing, and cuts piles of combining marks', () => {
    // Hangul fillers and the blank braille pattern are "letters" and "symbols" to Unicode, yet show nothing.
    for (const bad of ['\u3164', '\u2800', '\u115f\u1160', '\uffa0 \u3164', '\u2800\u200b']) {
      expect(normalizeName(bad, 64), JSON.stringify(bad)).toBeUndefined();
    }
    expect(normalizeName('Ana\u3164', 64)).toBe('Ana');
    const zalgo = normalizeName(`Z${'\u0336'.repeat(60)}oé`, 64);
    expect(zalgo).toBe(`Z${'\u0336'.repeat(4)}oé`);
    // Accents people write stay: Vietnamese stacks two marks on one letter.
    expect(normalizeName('Nguye\u0302\u0303n', 64)).toBe('Nguyễn');
  });

  it('is idempotent and bounded', () => {
    for (const s of ['Zoé', ' a  b ', 'Dr \u202eX', '👩\u200d⚕️']) {
      const once = normalizeName(s, 64)!;
      expect(normalizeName(once, 64)).toBe(once);
    }
    expect(normalizeName('x'.repeat(64), 64)).toBe('x'.repeat(64));
    expect(normalizeName('x'.repeat(65), 64)).toBeUndefined();
    expect(normalizeName('x'.repeat(100_000), 64)).toBeUndefined();
  });

  it('cuts a long stored name for display on a code point boundary', () => {
    expect(displayNameOf('Dr Alice', 64)).toBe('Dr Alice');
    const long = displayNameOf('😀'.repeat(60), 64);
    expect(long.length).toBeLessThanOrEqual(64);
    expect(long.endsWith('…')).toBe(true);
    expect(long).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/); // no lone surrogate
  });
});

describe('every name field of both protocols goes through it', () => {
  it('patients (signalling) and staff (HTTP) alike', () => {
    const enter = (displayName: string) =>
      requests.enterWaitingRoom.req.safeParse({ consultationId: 'abcdefghijklmnop', token: 'A'.repeat(43), displayName });
    for (const bad of ['\u0000', '\u001b', '\u202e', '\u200b\u200b']) {
      expect(enter(bad).success, JSON.stringify(bad)).toBe(false);
      expect(NewDoctor.safeParse({ email: 'a@b.test', name: bad }).success).toBe(false);
      expect(NewConsultation.safeParse({ doctorId: 'd', patientName: bad, scheduledAt: new Date().toISOString() }).success).toBe(false);
    }
    expect(enter('Zo\u200bé \u202eX').data?.displayName).toBe('Zoé X');
    expect(NewDoctor.safeParse({ email: 'a@b.test', name: ' Dr\u200b \u202eWho ' }).data?.name).toBe('Dr Who');
    expect(notifications.patientWaiting.safeParse({ requestId: 'r1', displayName: '\u200b' }).success).toBe(false);
  });
});
