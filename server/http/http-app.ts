// HTTP: the built client (single-page app) and a small JSON API.
import fs from 'node:fs';
import path from 'node:path';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { Logger } from 'pino';
import { trustFn, type TrustProxy } from './client-ip.ts';
import { DEFAULT_LIMITS, type Limits } from '../limits.ts';

/**
 * The pages' Content-Security-Policy. `nodeOrigins` (several nodes): the
 * cluster's origins, which a page may open its signalling socket to after a
 * redirect (each as http(s) and its ws(s) twin, since not every browser lets
 * an http source match a WebSocket URL).
 */
export function contentSecurityPolicy(nodeOrigins: readonly string[] = []): string {
  const sockets = nodeOrigins.flatMap((o) => [o, o.replace(/^http/, 'ws')]);
  return [
    "default-src 'self'",
    "script-src 'self'",
    "worker-src 'self'",
    ["connect-src 'self'", ...sockets].join(' '),
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}

export interface HttpAppOptions {
  clientDir: string;
  logger: Logger;
  /** Which X-Forwarded-For entries to believe (client-ip.ts); none by default. */
  trustProxy?: TrustProxy;
  /** Built-in HTTPS: the certificate chain and key (PEM). Unset: plain HTTP (or a TLS proxy in front). */
  https?: { cert: Buffer; key: Buffer };
  /** Served over HTTPS (built in, or CONFIDE_COOKIE_SECURE behind a proxy): browsers are told to use HTTPS only (HSTS). */
  hsts?: boolean;
  /** Timeouts against partial and trickled requests (limits.ts). */
  limits?: Limits['http'];
  /** Whether the server can hold calls (a live SFU worker): /api/health answers 503 otherwise. */
  healthy?: () => boolean;
  /** Registers the JSON API routes. */
  api?: (app: FastifyInstance) => void | Promise<void>;
  /** Several nodes: origins the pages may open signalling sockets to (CONFIDE_ORIGINS). */
  nodeOrigins?: readonly string[];
}

export async function createHttpApp(opts: HttpAppOptions) {
  const t = opts.limits ?? DEFAULT_LIMITS.http;
  const app = Fastify({
    ...(opts.https ? { https: opts.https } : {}),
    // A partial request, or a body trickled a byte at a time, is closed (issue 12, item 6).
    // fastify's own default (0) switches node's request timeout off.
    requestTimeout: t.requestTimeoutMs,
    connectionTimeout: t.idleTimeoutMs,
    http: { headersTimeout: t.headersTimeoutMs, connectionsCheckingInterval: t.checkEveryMs },
    loggerInstance: opts.logger,
    bodyLimit: 64 * 1024,
    // No per-request log lines: request URLs can carry invite tokens.
    logController: new LogController({ disableRequestLogging: true }),
    // Behind a TLS proxy, client IPs (login throttling) come from the X-Forwarded-For
    // entries our own proxies appended, never from what the client wrote (client-ip.ts).
    trustProxy: trustFn(opts.trustProxy ?? false),
  });

  // The page holds media keys: only our own scripts may run in it, and it may
  // only talk to this origin. No referrer, so invite URLs never leak onwards.
  const csp = contentSecurityPolicy(opts.nodeOrigins);
  app.addHook('onSend', async (_req, reply) => {
    reply.header('Content-Security-Policy', csp);
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    // One year; not includeSubDomains: other hosts of the clinic's domain are not ours to decide.
    if (opts.hsts) reply.header('Strict-Transport-Security', 'max-age=31536000');
  });

  // Unset behind a proxy, every client would share the proxy's address (one
  // throttle for all staff): say so once in the log.
  if (!opts.trustProxy) {
    let warned = false;
    app.addHook('onRequest', async (req) => {
      if (warned || req.headers['x-forwarded-for'] === undefined) return;
      warned = true;
      req.log.warn('X-Forwarded-For received but CONFIDE_TRUST_PROXY is unset: behind a proxy, set it (README, Configuration)');
    });
  }

  // For load balancers and monitoring: 200 while calls can be held, 503 when no SFU worker lives.
  app.get('/api/health', async (_req, reply) => {
    const ok = opts.healthy?.() ?? true;
    return reply.code(ok ? 200 : 503).header('Cache-Control', 'no-store').send({ ok });
  });
  await opts.api?.(app as unknown as FastifyInstance);

  if (!fs.existsSync(path.join(opts.clientDir, 'index.html'))) {
    throw new Error(`client not built (${opts.clientDir}); run "npm run setup"`);
  }
  await app.register(fastifyStatic, { root: opts.clientDir, index: ['index.html'], wildcard: false });

  // Client-side routes (e.g. /room/<id>) all load the single page.
  app.setNotFoundHandler((req, reply) => {
    if ((req.method === 'GET' || req.method === 'HEAD') && !req.url.startsWith('/api/') && !req.url.startsWith('/socket.io')) {
      return reply.type('text/html').sendFile('index.html');
    }
    return reply.code(404).send({ error: 'not found' });
  });

  return app;
}
