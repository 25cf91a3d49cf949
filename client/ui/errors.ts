// The one way the UI puts an error into words: from its code, translated.
// A server's message text never reaches the screen (the staff API client
// keeps none; signalling errors are read by code only), and every code of
// both protocols has a string in both languages — checked here at compile
// time and by tests/unit/i18n.test.ts.
import type { ApiErrorCode, FieldError } from '../../shared/protocol/staff-api.ts';
import { ErrorCode as SignallingErrorCode } from '../../shared/protocol/signalling.ts';
import { ApiError, type ClientErrorCode } from '../api/api-client.ts';
import { RequestError } from '../call/signalling-client.ts';
import type { StringKey } from './i18n.tsx';

type Translate = (key: StringKey) => string;

/** Signalling failures seen by the client: the server's codes plus its own. */
export type CallErrorCode = RequestError['code'];
export const CALL_CLIENT_CODES = ['timeout', 'bad-response', 'disconnected'] as const satisfies readonly CallErrorCode[];
const CALL_CODES = new Set<string>([...SignallingErrorCode.options, ...CALL_CLIENT_CODES]);
export const API_CLIENT_CODES = ['network', 'bad-response'] as const satisfies readonly ClientErrorCode[];

// Compile-time completeness: each of these is `never` exactly when every code has an English key.
type MissingKeys =
  | Exclude<`apiError.${ApiErrorCode | ClientErrorCode}`, StringKey>
  | Exclude<`fieldError.${FieldError}`, StringKey>
  | Exclude<`callError.${CallErrorCode}`, StringKey>;
const complete: [MissingKeys] extends [never] ? true : MissingKeys = true;
void complete;

/** A staff API failure in words: the fields at fault when the server named them, else the code's text. */
export function apiErrorText(t: Translate, code: ApiErrorCode | ClientErrorCode, fields: readonly FieldError[] = []): string {
  if ((code === 'bad-request' || code === 'weak-password') && fields.length > 0) return fields.map((f) => t(`fieldError.${f}`)).join(' ');
  return t(`apiError.${code}`);
}

/** A signalling failure in words, e.g. a CallSnapshot's `errorCode`; unknown codes get a generic text. */
export function callErrorText(t: Translate, code: string | undefined): string {
  return code !== undefined && CALL_CODES.has(code) ? t(`callError.${code as CallErrorCode}`) : t('error.unknown');
}

/**
 * Any caught error in words: ApiError and RequestError by their code, anything
 * else generically (its message is not shown: it may come from a server).
 */
export function errorText(t: Translate, err: unknown): string {
  if (err instanceof ApiError) return apiErrorText(t, err.code, err.fields);
  if (err instanceof RequestError) return callErrorText(t, err.code);
  return t('error.unknown');
}
