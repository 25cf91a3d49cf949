import { expect } from 'vitest';
import { SFrameError, type SFrameErrorCode } from '../../shared/crypto/sframe.ts';

/** Runs fn and returns the SFrameError code it throws (fails the test otherwise). */
export function errorCode(fn: () => unknown): SFrameErrorCode {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SFrameError);
    return (e as SFrameError).code;
  }
  throw new Error('expected an SFrameError, nothing was thrown');
}

/** Awaits `p` and returns the SFrameError code it rejects with (fails the test otherwise). */
export async function rejection(p: Promise<unknown>): Promise<SFrameErrorCode> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SFrameError);
    return (e as SFrameError).code;
  }
  throw new Error('expected an SFrameError, nothing was thrown');
}
