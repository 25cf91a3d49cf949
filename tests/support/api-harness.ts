// The staff JSON API (server/http/api.ts) on an in-memory store, for fastify's
// inject: captured log lines, a settable live status, recorded end calls.
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { registerApi, type LiveStatus } from '../../server/http/api.ts';
import { openStores, type Stores } from '../../server/store/index.ts';
import { LoginThrottle } from '../../server/auth/login-throttle.ts';
import type { HashGate } from '../../server/auth/hash-gate.ts';
import { FAST_HASHER } from '../e2e/support/server.ts';

export interface Harness {
  app: FastifyInstance;
  stores: Stores;
  logs: string[];
  /** Every response body, for the "no secrets in answers" check. */
  bodies: string[];
  ended: { id: string; actor: string }[];
  live: Map<string, LiveStatus>;
  /** Set-Cookie tokens, patient tokens and passwords seen during the tests. */
  secrets: Set<string>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** endConsultation sets the status and audits itself, as the real server's does. */
  endDoesBookkeeping?: boolean;
  linkCheckPerMinute?: number;
  /** Where live status comes from (default: the harness's `live` map). */
  live?: (id: string) => LiveStatus;
  /** Bounds password hashing as the server does (default: none). */
  hashGate?: HashGate;
}

export async function harness(opts: HarnessOptions = {}): Promise<Harness> {
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  // Stricter than production: request logging stays on, at trace level.
  // (Cast as in server/http/http-app.ts: a pino Logger-typed instance vs FastifyBaseLogger.)
  const app = Fastify({ loggerInstance: pino({ level: 'trace' }, stream), bodyLimit: 64 * 1024 }) as unknown as FastifyInstance;
  const stores = await openStores(':memory:', { passwordHasher: FAST_HASHER });
  const ended: Harness['ended'] = [];
  const live = new Map<string, LiveStatus>();
  await registerApi(app, {
    stores,
    cookieSecure: false,
    live: opts.live ?? ((id) => live.get(id) ?? { connected: [], waiting: 0 }),
    endConsultation: async (id, actor) => {
      ended.push({ id, actor });
      if (opts.endDoesBookkeeping) {
        await stores.consultations.setStatus(id, 'ended');
        await stores.audit.record(id, 'ended', actor);
      }
    },
    loginThrottle: new LoginThrottle(),
    ...(opts.linkCheckPerMinute !== undefined ? { linkCheckPerMinute: opts.linkCheckPerMinute } : {}),
    ...(opts.hashGate ? { hashGate: opts.hashGate } : {}),
  });
  await app.ready();
  return {
    app,
    stores,
    logs,
    bodies: [],
    ended,
    live,
    secrets: new Set(),
    async close() {
      await app.close();
      await stores.db.close();
    },
  };
}
