// Operations endpoints: GET /metrics (Prometheus text). Counts only, but
// still not for everyone: a request that did not come from this machine's
// loopback needs `Authorization: Bearer <CONFIDE_METRICS_TOKEN>` (the token
// unset: loopback only). The socket's own address decides, never
// X-Forwarded-For, and a forwarded request (X-Forwarded-For or Forwarded
// present) or an encoded path ("/%6detrics") is never taken as local — a
// reverse proxy on this machine should still refuse /metrics
// (deploy/nginx/confide.conf does; tests/integration/nginx-proxy.test.ts checks).
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
    // The path as sent, not as the router decoded it: a proxy that refuses "/metrics" may pass "/%6detrics" on.
    // And a request a proxy forwarded is not this machine's own, whatever socket it came in on.
    const exactPath = (req.raw.url ?? '').split('?')[0] === '/metrics';
    const viaProxy = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined;
    const local = loopback(req.socket.remoteAddress) && !viaProxy;
    const allowed = exactPath && (local || (opts.metricsToken !== undefined && tokenMatches(req.headers.authorization, opts.metricsToken)));
    if (!allowed) return reply.code(404).send({ error: 'not found' });
    const { contentType, body } = await opts.metrics.scrape();
    return reply.header('Cache-Control', 'no-store').type(contentType).send(body);
  });
}
