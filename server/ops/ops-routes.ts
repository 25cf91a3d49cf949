// Operations endpoints: GET /metrics (Prometheus text). Counts only, but
// still not for everyone: a request that did not come from this machine's
// loopback needs `Authorization: Bearer <CONFIDE_METRICS_TOKEN>` (the token
// unset: loopback only). The socket's own address decides, never
// X-Forwarded-For — so a reverse proxy on this machine must not pass /metrics
// on (deploy/nginx/confide.conf refuses it; tests/integration/nginx-proxy.test.ts checks).
import crypto from 'node:crypto';
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.ts';

export interface OpsOptions {
  metrics: Metrics;
  /** CONFIDE_METRICS_TOKEN: lets a scraper on another machine in. */
  metricsToken: string | undefined;
}

function loopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || (net.isIPv4(v4) && v4.startsWith('127.'));
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.{1,512})$/.exec(header ?? '')?.[1] ?? '');
  const want = Buffer.from(token);
  // Hash both sides: timingSafeEqual needs equal lengths, and lengths must not leak either.
  return crypto.timingSafeEqual(crypto.createHash('sha256').update(given).digest(), crypto.createHash('sha256').update(want).digest()) && given.length > 0;
}

/** Registers GET /metrics: 200 with the exposition, 404 to anyone not allowed (nothing to discover). */
export function registerOps(app: FastifyInstance, opts: OpsOptions): void {
  app.get('/metrics', async (req, reply) => {
    const allowed = loopback(req.socket.remoteAddress) || (opts.metricsToken !== undefined && tokenMatches(req.headers.authorization, opts.metricsToken));
    if (!allowed) return reply.code(404).send({ error: 'not found' });
    const { contentType, body } = await opts.metrics.scrape();
    return reply.header('Cache-Control', 'no-store').type(contentType).send(body);
  });
}
