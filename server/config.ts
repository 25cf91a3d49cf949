// Server configuration from environment variables (documented in README.md).
import net from 'node:net';
import os from 'node:os';
import type { TrustProxy } from './http/client-ip.ts';
import { parseAllowedOrigins, type AllowedOrigins } from './http/origin-policy.ts';
import { DEFAULT_LIMITS } from './limits.ts';

export interface Config {
  host: string;
  port: number;
  /** IP the WebRTC transports bind to. */
  rtcListenIp: string;
  /** IP announced to browsers in ICE candidates (public/LAN address when behind NAT). */
  rtcAnnouncedIp: string | undefined;
  rtcMinPort: number;
  rtcMaxPort: number;
  numWorkers: number;
  logLevel: string;
  /** Folder for the SQLite database (created if missing). */
  dataDir: string;
  /** Mark cookies Secure (set when served over HTTPS, e.g. behind a TLS proxy). */
  cookieSecure: boolean;
  /** Which X-Forwarded-For entries to believe: none, the last n hops, or those appended by these proxies. */
  trustProxy: TrustProxy;
  /** How long a participant whose connection dropped keeps its place in the call (ms). */
  graceMs: number;
  /** Origins whose pages may use the API and signalling (CONFIDE_ORIGINS); undefined: the request's own Host. */
  allowedOrigins: AllowedOrigins;
  /** Open signalling connections per client address (CONFIDE_MAX_SOCKETS_PER_IP). */
  maxSocketsPerIp: number;
}

function int(name: string, fallback: number, env: NodeJS.ProcessEnv): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got "${raw}"`);
  return n;
}

const PROXY_PRESETS = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An IP address, or a CIDR range (`10.0.0.0/8`, `fd00::/8`). */
function isAddressOrRange(s: string): boolean {
  const [ip, bits, extra] = s.split('/');
  if (extra !== undefined || !ip) return false;
  const family = net.isIP(ip);
  if (family === 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d{1,3}$/.test(bits) && n >= 0 && n <= (family === 4 ? 32 : 128);
}

/**
 * CONFIDE_TRUST_PROXY: unset (no proxy), a hop count `1`…`9` (the server is
 * reachable only through that many proxies), or a comma-separated list of the
 * proxies' addresses or CIDR ranges (or `loopback`, `linklocal`, `uniquelocal`).
 * Throws on anything else: trusting every X-Forwarded-For lets clients choose their address.
 */
export function parseTrustProxy(raw: string | undefined): TrustProxy {
  const v = raw?.trim() ?? '';
  if (v === '') return false;
  if (/^[1-9]$/.test(v)) return { hops: Number(v) };
  const addresses = v.split(',').map((a) => a.trim()).filter(Boolean);
  if (addresses.length > 0 && addresses.every((a) => PROXY_PRESETS.has(a) || isAddressOrRange(a))) return { addresses };
  throw new Error(
    `CONFIDE_TRUST_PROXY must be a hop count (1-9) or the proxies' addresses/CIDR ranges, comma-separated; got "${v.slice(0, 100)}"`,
  );
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cfg: Config = {
    host: env.CONFIDE_HOST || '127.0.0.1',
    port: int('CONFIDE_PORT', 3000, env),
    rtcListenIp: env.CONFIDE_RTC_LISTEN_IP || '127.0.0.1',
    rtcAnnouncedIp: env.CONFIDE_RTC_ANNOUNCED_IP || undefined,
    rtcMinPort: int('CONFIDE_RTC_MIN_PORT', 40000, env),
    rtcMaxPort: int('CONFIDE_RTC_MAX_PORT', 49999, env),
    numWorkers: int('CONFIDE_WORKERS', os.cpus().length, env),
    logLevel: env.CONFIDE_LOG_LEVEL || 'info',
    dataDir: env.CONFIDE_DATA_DIR || 'data',
    cookieSecure: env.CONFIDE_COOKIE_SECURE === '1',
    trustProxy: parseTrustProxy(env.CONFIDE_TRUST_PROXY),
    graceMs: int('CONFIDE_GRACE_MS', 30_000, env),
    allowedOrigins: parseAllowedOrigins(env.CONFIDE_ORIGINS),
    maxSocketsPerIp: int('CONFIDE_MAX_SOCKETS_PER_IP', DEFAULT_LIMITS.sockets.perIp, env),
  };
  if (cfg.rtcMinPort < 1 || cfg.rtcMaxPort > 65535 || cfg.rtcMinPort > cfg.rtcMaxPort) {
    throw new Error('CONFIDE_RTC_MIN_PORT/CONFIDE_RTC_MAX_PORT must form a range within 1..65535');
  }
  if (cfg.numWorkers < 1) throw new Error('CONFIDE_WORKERS must be >= 1');
  if (cfg.maxSocketsPerIp < 1) throw new Error('CONFIDE_MAX_SOCKETS_PER_IP must be >= 1');
  if (cfg.graceMs < 1000 || cfg.graceMs > 600_000) throw new Error('CONFIDE_GRACE_MS must be within 1000..600000');
  return cfg;
}
