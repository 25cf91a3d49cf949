import type { z } from 'zod';
import type { Ack, ErrorCode } from '../../shared/protocol/signalling.ts';
import type { Redirect } from '../../shared/protocol/cluster.ts';

/** An error whose code and message are safe to send back to the client; `redirect` only with code 'elsewhere'. */
export class SignallingError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly redirect?: Redirect,
  ) {
    super(message);
  }
}

/** An error acknowledgement. */
export function failure(code: ErrorCode, message: string, redirect?: Redirect): Ack<never> {
  return { ok: false, error: { code, message, ...(redirect ? { redirect } : {}) } };
}

/** The first validation issue in a few words (no values echoed), for an error acknowledgement. */
export function describeIssue(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return 'invalid payload';
  const where = first.path.length ? first.path.join('.') : 'payload';
  return `invalid ${where}: ${first.message}`.slice(0, 300);
}
