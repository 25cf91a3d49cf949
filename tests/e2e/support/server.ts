// Starts a real Confide server in-process on a free port.
import pino from 'pino';
import { loadConfig } from '../../../server/config.ts';
import { startConfide, type ConfideServer, type StartOptions } from '../../../server/app.ts';

export async function startTestServer(env: Record<string, string> = {}, opts: StartOptions = {}): Promise<ConfideServer> {
  const cfg = loadConfig({ CONFIDE_PORT: '0', CONFIDE_WORKERS: '1', CONFIDE_LOG_LEVEL: 'warn', ...env });
  return startConfide(cfg, { logger: pino({ level: cfg.logLevel }), ...opts });
}
