// CONFIDE_TURN_* (README, Configuration): whether Confide runs a TURN relay
// (Debian's coturn) for browsers whose networks block direct media, and how.
import crypto from 'node:crypto';
import net from 'node:net';
import { isUnspecifiedIp, type MediaListen } from '../sfu/media-listen.ts';
import type { TlsFiles } from '../config.ts';

export interface TurnConfig {
  /** Host name or IP browsers reach the relay at (turn:/turns: URLs). */
  host: string;
  /** UDP and TCP port (CONFIDE_TURN_PORT, 3478). */
  port: number;
  /** TLS port (CONFIDE_TURN_TLS_PORT, e.g. 443 on an address of its own); needs a certificate. */
  tlsPort: number | undefined;
  /** Certificate for the TLS port (CONFIDE_TURN_TLS_CERT/KEY, else CONFIDE_TLS_CERT/KEY). */
  tls: TlsFiles | undefined;
  /** Shared with coturn (CONFIDE_TURN_SECRET); drawn at random per start when Confide runs coturn itself. */
  secret: string;
  /** CONFIDE_TURN_EXTERNAL=1: coturn runs elsewhere (same secret); Confide only hands out credentials. */
  external: boolean;
  /** Address coturn listens and relays on (CONFIDE_TURN_LISTEN_IP, else the media listen IP). */
  listenIp: string;
  /** Where the SFU is reached (the media addresses): the only peers the relay may send to. */
  allowedPeers: string[];
  /** The address coturn tells clients its relay has, behind 1:1 NAT (CONFIDE_ANNOUNCED_IP). */
  externalIp: string | undefined;
  /** UDP ports of relay allocations (CONFIDE_TURN_RELAY_PORTS, "49160-59999"). */
  relayPorts: { min: number; max: number };
  /** Lifetime of a credential (CONFIDE_TURN_TTL_S, seconds, 4 h by default), in ms. */
  ttlMs: number;
}

function port(name: string, raw: string | undefined, fallback: number | undefined): number | undefined {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a port (1-65535), got "${raw.slice(0, 50)}"`);
  return n;
}

/**
 * The TURN relay settings, or undefined when CONFIDE_TURN_HOST is unset (no
 * relay). Throws on settings that cannot work (a TLS port without a
 * certificate, an external relay without its secret, a short secret).
 */
export function parseTurn(env: NodeJS.ProcessEnv, media: MediaListen, httpsTls: TlsFiles | undefined): TurnConfig | undefined {
  const host = env.CONFIDE_TURN_HOST?.trim();
  if (!host) return undefined;
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(host)) throw new Error('CONFIDE_TURN_HOST must be a host name or an IP address');
  const external = env.CONFIDE_TURN_EXTERNAL === '1';
  const given = env.CONFIDE_TURN_SECRET || undefined;
  if (given !== undefined && given.length < 32) throw new Error('CONFIDE_TURN_SECRET must be at least 32 characters');
  if (external && !given) throw new Error('CONFIDE_TURN_EXTERNAL=1 needs CONFIDE_TURN_SECRET (the static-auth-secret of that coturn)');
  const tlsPort = port('CONFIDE_TURN_TLS_PORT', env.CONFIDE_TURN_TLS_PORT, undefined);
  const certFile = env.CONFIDE_TURN_TLS_CERT || httpsTls?.certFile;
  const keyFile = env.CONFIDE_TURN_TLS_KEY || httpsTls?.keyFile;
  const tls = certFile && keyFile ? { certFile, keyFile } : undefined;
  if (tlsPort !== undefined && !tls && !external) {
    throw new Error('CONFIDE_TURN_TLS_PORT needs a certificate: CONFIDE_TURN_TLS_CERT/KEY or CONFIDE_TLS_CERT/KEY');
  }
  const listenIp = env.CONFIDE_TURN_LISTEN_IP || media.listenIp;
  if (net.isIP(listenIp) === 0) throw new Error('CONFIDE_TURN_LISTEN_IP must be an IP address');
  const range = /^(\d{1,5})-(\d{1,5})$/.exec(env.CONFIDE_TURN_RELAY_PORTS?.trim() || '49160-59999');
  const relayPorts = range ? { min: Number(range[1]), max: Number(range[2]) } : undefined;
  if (!relayPorts || relayPorts.min < 1024 || relayPorts.max > 65535 || relayPorts.min > relayPorts.max) {
    throw new Error('CONFIDE_TURN_RELAY_PORTS must be a range "min-max" within 1024-65535');
  }
  const ttlS = Number(env.CONFIDE_TURN_TTL_S || 4 * 3600);
  if (!Number.isInteger(ttlS) || ttlS < 60 || ttlS > 86_400) throw new Error('CONFIDE_TURN_TTL_S must be within 60..86400 (seconds)');
  const allowedPeers = [...new Set([media.listenIp, media.announcedIp].filter((ip): ip is string => !!ip && !isUnspecifiedIp(ip)))];
  return {
    host,
    port: port('CONFIDE_TURN_PORT', env.CONFIDE_TURN_PORT, 3478)!,
    tlsPort,
    tls,
    secret: given ?? crypto.randomBytes(32).toString('base64url'),
    external,
    listenIp,
    allowedPeers,
    externalIp: media.announcedIp,
    relayPorts,
    ttlMs: ttlS * 1000,
  };
}
