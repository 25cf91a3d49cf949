// Server configuration from environment variables (documented in README.md).
import net from 'node:net';
import os from 'node:os';
import type { TrustProxy } from './http/client-ip.ts';
import { parseAllowedOrigins, type AllowedOrigins } from './http/origin-policy.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import { isUnspecifiedIp, type MediaListen } from './sfu/media-listen.ts';
import { parseTurn, type TurnConfig } from './turn/turn-config.ts';
import { parseCluster, type ClusterConfig } from './cluster/cluster-config.ts';
import { databaseTarget } from './store/database.ts';

export interface Config {
  host: string;
  port: number;
  /**
   * Where media is received: one UDP + one TCP port per SFU worker (a
   * WebRtcServer each, CONFIDE_MEDIA_PORT + worker index), or a port pair per
   * transport from the range (CONFIDE_MEDIA_PORT=range); the IP it binds
   * (CONFIDE_RTC_LISTEN_IP) and announces to browsers (CONFIDE_ANNOUNCED_IP).
   */
  media: MediaListen;
  /** The workers' port range (per-transport ports in 'range' mode; WebRtcServer ports when CONFIDE_MEDIA_PORT=0). */
  rtcMinPort: number;
  rtcMaxPort: number;
  numWorkers: number;
  logLevel: string;
  /** Folder for the SQLite database (created if missing); unused when databaseUrl is set. */
  dataDir: string;
  /** CONFIDE_DATABASE_URL: a postgres:// URL switches the store to PostgreSQL; unset, SQLite in dataDir. Secret (may hold a password): never logged. */
  databaseUrl: string | undefined;
  /** Mark cookies Secure and send HSTS: served over HTTPS (CONFIDE_COOKIE_SECURE behind a TLS proxy, or built-in TLS). */
  cookieSecure: boolean;
  /** Built-in HTTPS (CONFIDE_TLS_CERT / CONFIDE_TLS_KEY): PEM file paths, read at start (and again on SIGHUP). */
  tls: TlsFiles | undefined;
  /** Which X-Forwarded-For entries to believe: none, the last n hops, or those appended by these proxies. */
  trustProxy: TrustProxy;
  /** How long a participant whose connection dropped keeps its place in the call (ms). */
  graceMs: number;
  /** Origins whose pages may use the API and signalling (CONFIDE_ORIGINS); undefined: the request's own Host. */
  allowedOrigins: AllowedOrigins;
  /** The TURN relay (CONFIDE_TURN_*), when configured: coturn, run by Confide unless external. */
  turn: TurnConfig | undefined;
  /** Lets a Prometheus scraper on another machine read /metrics (`Authorization: Bearer …`); unset: loopback only. */
  metricsToken: string | undefined;
  /** Open signalling connections per client address (CONFIDE_MAX_SOCKETS_PER_IP). */
  maxSocketsPerIp: number;
  /** Several nodes (CONFIDE_REDIS_URL, CONFIDE_NODE_ID, CONFIDE_PUBLIC_URL); undefined: one node, in-memory state. */
  cluster: ClusterConfig | undefined;
}

/** PEM files of the server's certificate (chain) and private key. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** CONFIDE_TLS_CERT and CONFIDE_TLS_KEY: both or neither (throws otherwise). */
export function parseTls(env: NodeJS.ProcessEnv): TlsFiles | undefined {
  const certFile = env.CONFIDE_TLS_CERT || undefined;
  const keyFile = env.CONFIDE_TLS_KEY || undefined;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new Error('CONFIDE_TLS_CERT and CONFIDE_TLS_KEY go together: set both (PEM files) or neither');
  return { certFile, keyFile };
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

/**
 * The media listening of CONFIDE_MEDIA_PORT (a port: worker i uses port + i;
 * `0`: free ports from the range; `range`: a port pair per transport),
 * CONFIDE_RTC_LISTEN_IP and CONFIDE_ANNOUNCED_IP (or its older name
 * CONFIDE_RTC_ANNOUNCED_IP). Throws on a port or address that cannot work.
 */
export function parseMediaListen(env: NodeJS.ProcessEnv, numWorkers: number): MediaListen {
  const listenIp = env.CONFIDE_RTC_LISTEN_IP || '127.0.0.1';
  const announcedIp = env.CONFIDE_ANNOUNCED_IP || env.CONFIDE_RTC_ANNOUNCED_IP || undefined;
  if (net.isIP(listenIp) === 0) throw new Error(`CONFIDE_RTC_LISTEN_IP must be an IP address, got "${listenIp.slice(0, 100)}"`);
  if (announcedIp !== undefined && net.isIP(announcedIp) === 0) {
    throw new Error(`CONFIDE_ANNOUNCED_IP must be an IP address, got "${announcedIp.slice(0, 100)}"`);
  }
  if (isUnspecifiedIp(listenIp)) {
    // Browsers cannot send to 0.0.0.0: an unspecified listen address needs the one to announce.
    if (!announcedIp) throw new Error('CONFIDE_RTC_LISTEN_IP=0.0.0.0 needs CONFIDE_ANNOUNCED_IP (the address browsers reach)');
  }
  if (env.CONFIDE_MEDIA_PORT?.trim() === 'range') return { mode: 'range', listenIp, announcedIp };
  const basePort = int('CONFIDE_MEDIA_PORT', 40000, env);
  if (basePort !== 0 && (basePort < 1 || basePort + numWorkers - 1 > 65535)) {
    throw new Error('CONFIDE_MEDIA_PORT must be 0, "range", or a port such that port + workers - 1 <= 65535');
  }
  return { mode: 'server', listenIp, announcedIp, basePort };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const tls = parseTls(env);
  const cfg: Config = {
    host: env.CONFIDE_HOST || '127.0.0.1',
    port: int('CONFIDE_PORT', 3000, env),
    media: { mode: 'range', listenIp: '127.0.0.1', announcedIp: undefined }, // set below, once numWorkers is checked
    rtcMinPort: int('CONFIDE_RTC_MIN_PORT', 40000, env),
    rtcMaxPort: int('CONFIDE_RTC_MAX_PORT', 49999, env),
    numWorkers: int('CONFIDE_WORKERS', os.cpus().length, env),
    logLevel: env.CONFIDE_LOG_LEVEL || 'info',
    dataDir: env.CONFIDE_DATA_DIR || 'data',
    databaseUrl: env.CONFIDE_DATABASE_URL || undefined,
    tls,
    cookieSecure: env.CONFIDE_COOKIE_SECURE === '1' || tls !== undefined,
    trustProxy: parseTrustProxy(env.CONFIDE_TRUST_PROXY),
    graceMs: int('CONFIDE_GRACE_MS', 30_000, env),
    allowedOrigins: parseAllowedOrigins(env.CONFIDE_ORIGINS),
    turn: undefined, // set below, from the media addresses
    metricsToken: env.CONFIDE_METRICS_TOKEN || undefined,
    maxSocketsPerIp: int('CONFIDE_MAX_SOCKETS_PER_IP', DEFAULT_LIMITS.sockets.perIp, env),
    cluster: parseCluster(env),
  };
  if (cfg.rtcMinPort < 1 || cfg.rtcMaxPort > 65535 || cfg.rtcMinPort > cfg.rtcMaxPort) {
    throw new Error('CONFIDE_RTC_MIN_PORT/CONFIDE_RTC_MAX_PORT must form a range within 1..65535');
  }
  if (cfg.metricsToken !== undefined && cfg.metricsToken.length < 16) throw new Error('CONFIDE_METRICS_TOKEN must be at least 16 characters');
  // Several nodes: a page of the clinic origin opens its socket on another node's origin
  // after a redirect; each node must accept the others' pages, and the pages' CSP must list them.
  if (cfg.cluster && !cfg.allowedOrigins?.has(cfg.cluster.publicUrl)) {
    throw new Error('CONFIDE_REDIS_URL needs CONFIDE_ORIGINS: the clinic origin and every node\'s CONFIDE_PUBLIC_URL, this node\'s included');
  }
  databaseTarget(cfg.dataDir, cfg.databaseUrl); // throws for a URL of another kind, at start
  if (cfg.numWorkers < 1) throw new Error('CONFIDE_WORKERS must be >= 1');
  cfg.media = parseMediaListen(env, cfg.numWorkers);
  cfg.turn = parseTurn(env, cfg.media, cfg.tls);
  if (cfg.maxSocketsPerIp < 1) throw new Error('CONFIDE_MAX_SOCKETS_PER_IP must be >= 1');
  if (cfg.graceMs < 1000 || cfg.graceMs > 600_000) throw new Error('CONFIDE_GRACE_MS must be within 1000..600000');
  return cfg;
}
