import { AES_128_GCM_SHA256_128 } from './sframe.ts';

/** The SFrame cipher suite Confide uses for media. */
export const SUITE = AES_128_GCM_SHA256_128;
