// The Redis connection of a node (ioredis): connected before use, errors
// logged by code only (the URL may carry a password), bounded retries so a
// Redis outage fails requests instead of queueing them forever.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Opens a connection to `url` (redis:// or rediss://) and resolves once it is
 * ready; rejects (after closing it) if Redis cannot be reached within
 * `connectTimeoutMs` (default 5 000 ms). Afterwards ioredis reconnects by
 * itself; a command issued while it is down is retried on at most 3
 * reconnections, then rejected. Lost/regained connections are logged once
 * each, with the error code only.
 */
export async function connectRedis(url: string, log: Logger, connectTimeoutMs = 5_000): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, connectTimeout: connectTimeoutMs });
  let up = false;
  let lastError: Error | undefined;
  redis.on('error', (err: NodeJS.ErrnoException) => {
    lastError = err;
    if (up) log.warn({ code: err.code ?? 'ERR' }, 'Redis connection lost; reconnecting');
    up = false;
  });
  redis.on('ready', () => {
    if (!up) log.info('Redis connection ready');
    up = true;
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    // Redis's own words for a refused password (never the URL, which holds it).
    // (connect() itself rejects with "Connection is closed"; the reply came as an 'error' event.)
    const refused = [err, lastError].some((e) => e instanceof Error && /^(WRONGPASS|NOAUTH)\b|invalid password/.test(e.message));
    if (refused) throw new Error('Redis refused the password (CONFIDE_REDIS_URL: redis://:<password>@host:port)');
    throw new Error(`cannot reach Redis (CONFIDE_REDIS_URL): ${(err as NodeJS.ErrnoException).code ?? 'connection failed'}`);
  }
  return redis;
}
