import type { ErrorCode } from '../../shared/protocol/signalling.ts';

/** An error whose code and message are safe to send back to the client. */
export class SignallingError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
