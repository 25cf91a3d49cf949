// Languages: every key in both languages (chat strings included), every ICU
// message valid with the same arguments in both, every error code of the
// staff API and of signalling translated, and no way for a server's message
// text to reach the UI (the error classes keep none; UI code reads no
// `.message`; no string has a slot for raw error text).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dictionaries, LANGS, translate, type StringKey } from '../../client/ui/i18n.tsx';
import { en } from '../../client/ui/strings-en.ts';
import { chatStrings } from '../../client/ui/call/chat-strings.ts';
import { API_CLIENT_CODES, CALL_CLIENT_CODES, apiErrorText, callErrorText, errorText } from '../../client/ui/errors.ts';
import { dayAndTime } from '../../client/ui/format.ts';
import { ApiError, callApi } from '../../client/api/api-client.ts';
import { RequestError } from '../../client/call/signalling-client.ts';
import { ApiErrorCode, FieldError } from '../../shared/protocol/staff-api.ts';
import { ErrorCode } from '../../shared/protocol/signalling.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const keys = Object.keys(en) as StringKey[];

/** Argument names of an ICU message, with their kind (plain, plural, date…), sorted. */
function argumentsOf(elements: MessageFormatElement[], out = new Set<string>()): Set<string> {
  for (const el of elements) {
    if (el.type === TYPE.argument || el.type === TYPE.number || el.type === TYPE.date || el.type === TYPE.time) out.add(`${el.value}:${el.type}`);
    if (el.type === TYPE.plural || el.type === TYPE.select) {
      out.add(`${el.value}:${el.type}`);
      for (const option of Object.values(el.options)) argumentsOf(option.value, out);
    }
    if (el.type === TYPE.tag) argumentsOf(el.children, out);
  }
  return out;
}

describe('dictionaries', () => {
  it('French has exactly the English keys, chat strings included', () => {
    for (const lang of LANGS) {
      const d = dictionaries[lang];
      expect(Object.keys(d).sort(), lang).toEqual([...keys].sort());
      for (const k of keys) expect(d[k]?.trim(), `${lang}: ${k}`).toBeTruthy();
    }
    for (const [lang, strings] of Object.entries(chatStrings)) {
      expect(Object.keys(strings).sort(), `chat ${lang}`).toEqual(Object.keys(chatStrings.en).sort());
      for (const k of Object.keys(strings)) expect(keys, `chat key ${k} reaches the dictionaries`).toContain(k);
    }
  });

  it('every message is valid ICU, with the same arguments in both languages', () => {
    for (const k of keys) {
      const args = LANGS.map((lang) => [...argumentsOf(parse(dictionaries[lang][k]))].sort());
      for (const a of args) expect(a, k).toEqual(args[0]);
      // A quote next to a brace is an ICU escape: it would hide an argument or swallow text.
      for (const lang of LANGS) expect(dictionaries[lang][k], `${lang}: ${k}`).not.toMatch(/'[{}]/);
    }
  });

  it('renders plurals and dates through the library', () => {
    expect(translate('en', 'chatCharsLeft', { count: 1 })).toBe('1 character left');
    expect(translate('en', 'chatCharsLeft', { count: 3 })).toBe('3 characters left');
    expect(translate('fr', 'chatCharsLeft', { count: 1 })).toBe('1 caractère restant');
    expect(translate('fr', 'chatCouldNotDecrypt', { count: 2 })).toMatch(/^2 messages n’ont pas pu être déchiffrés/);
    expect(translate('fr', 'linkWith', { doctor: 'Dr Martin', day: 'aujourd’hui', time: '14:30' })).toBe(
      'Consultation avec Dr Martin, aujourd’hui à 14:30',
    );
  });

  it('gives a time of day as the language writes it, before 10 a.m. too', () => {
    const now = new Date(2026, 10, 30, 12, 0).getTime();
    for (const [h, fr] of [[0, '00:04'], [9, '09:04'], [14, '14:04']] as const) {
      const at = new Date(2026, 10, 30, h, 4).getTime();
      expect(dayAndTime('fr', at, now).time).toBe(fr);
      expect(dayAndTime('en', at, now).time).toMatch(new RegExp(`^${h % 12 || 12}:04\\s?[AP]M$`));
    }
  });
});

describe('error codes', () => {
  it('every code of the staff API, of signalling and of the clients has a text in both languages', () => {
    const needed: string[] = [
      ...[...ApiErrorCode.options, ...API_CLIENT_CODES].map((c) => `apiError.${c}`),
      ...FieldError.options.map((c) => `fieldError.${c}`),
      ...[...ErrorCode.options, ...CALL_CLIENT_CODES].map((c) => `callError.${c}`),
      'error.unknown',
    ];
    for (const lang of LANGS) {
      for (const key of needed) expect(dictionaries[lang][key as StringKey], `${lang}: ${key}`).toBeTruthy();
    }
  });

  it('errorText says what the code means, in the language asked', () => {
    const fr = (k: StringKey) => translate('fr', k);
    expect(errorText(fr, new ApiError(401, 'invalid-credentials'))).toBe('E-mail ou mot de passe incorrect.');
    expect(errorText(fr, new ApiError(400, 'bad-request', ['scheduledAt-range']))).toBe(translate('fr', 'fieldError.scheduledAt-range'));
    expect(apiErrorText(fr, 'network')).toBe(translate('fr', 'apiError.network'));
    expect(callErrorText(fr, 'ended')).toBe('Cette consultation est terminée.');
    expect(callErrorText(fr, 'no-such-code')).toBe(translate('fr', 'error.unknown'));
    expect(callErrorText(fr, undefined)).toBe(translate('fr', 'error.unknown'));
  });
});

describe('a server message never reaches the UI', () => {
  afterEach(() => vi.unstubAllGlobals());
  const SERVER_TEXT = 'wrong email or password (server wording)';

  it('the staff API client keeps the code and drops the server’s message', async () => {
    vi.stubGlobal('fetch', async () =>
      new Response(JSON.stringify({ error: { code: 'invalid-credentials', message: SERVER_TEXT } }), { status: 401 }),
    );
    const err = await callApi('login', { body: { email: 'a@b.c', password: 'x' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('invalid-credentials');
    expect(JSON.stringify(err) + String(err) + (err as Error).message).not.toContain('server wording');
    expect(errorText((k) => translate('en', k), err)).not.toContain('server wording');
  });

  it('answers off the schema, unknown codes and no answer become client codes', async () => {
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ error: { code: 'made-up', message: SERVER_TEXT, fields: ['x', 'email-invalid'] } }), { status: 400 }));
    const unknown = (await callApi('me', {}).catch((e: unknown) => e)) as ApiError;
    expect([unknown.code, unknown.fields]).toEqual(['bad-response', ['email-invalid']]);
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ user: { id: 1 } }), { status: 200 }));
    expect(((await callApi('me', {}).catch((e: unknown) => e)) as ApiError).code).toBe('bad-response');
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    expect(((await callApi('me', {}).catch((e: unknown) => e)) as ApiError).code).toBe('network');
  });

  it('errorText reads a signalling error by its code only', () => {
    const text = errorText((k) => translate('en', k), new RequestError('forbidden', `enterWaitingRoom: ${SERVER_TEXT}`));
    expect(text).toBe(translate('en', 'callError.forbidden'));
    expect(errorText((k) => translate('en', k), new Error(SERVER_TEXT))).toBe(translate('en', 'error.unknown'));
  });

  it('no string has a slot for raw error text', () => {
    for (const k of keys) {
      const names = [...argumentsOf(parse(en[k]))].map((a) => a.split(':')[0]);
      expect(names.filter((n) => /^(error|err|message|msg|detail)$/i.test(n!)), k).toEqual([]);
    }
  });

  it('UI code never reads an error’s .message', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (/\.tsx?$/.test(entry.name)) {
          fs.readFileSync(file, 'utf8')
            .split('\n')
            .forEach((line, i) => {
              if (/\.message\b/.test(line)) offenders.push(`${path.relative(root, file)}:${i + 1}: ${line.trim()}`);
            });
        }
      }
    };
    walk(path.join(root, 'client', 'ui'));
    expect(offenders).toEqual([]);
  });
});
