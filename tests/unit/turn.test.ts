// TURN relay pieces without a relay: credentials in coturn's REST-API scheme
// (checked the way coturn checks them), the coturn configuration (relaying
// only to the SFU), and the CONFIDE_TURN_* settings.
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { turnIceServers } from '../../server/turn/turn-credentials.ts';
import { coturnConfig } from '../../server/turn/coturn.ts';
import { parseTurn } from '../../server/turn/turn-config.ts';
import type { MediaListen } from '../../server/sfu/media-listen.ts';
import { IceServer } from '../../shared/protocol/signalling.ts';

const SECRET = 'a-shared-secret-of-at-least-32-characters';
const media: MediaListen = { mode: 'server', listenIp: '10.0.0.5', announcedIp: '203.0.113.10', basePort: 40000 };

describe('TURN credentials', () => {
  const settings = { host: 'turn.clinic.example', port: 3478, tlsPort: 443, secret: SECRET, ttlMs: 3_600_000 };

  it('are what coturn accepts: username "<expiry>:<tag>", password base64(HMAC-SHA1(secret, username))', () => {
    const now = Date.UTC(2026, 10, 30, 12);
    const [server] = turnIceServers(settings, now);
    expect(IceServer.parse(server)).toEqual(server);
    const [expiry, tag] = server!.username.split(':');
    expect(Number(expiry)).toBe(now / 1000 + 3600);
    expect(tag).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(server!.credential).toBe(crypto.createHmac('sha1', SECRET).update(server!.username).digest('base64'));
    expect(server!.urls).toEqual([
      'turn:turn.clinic.example:3478?transport=udp',
      'turn:turn.clinic.example:3478?transport=tcp',
      'turns:turn.clinic.example:443?transport=tcp',
    ]);
  });

  it('differ for every transport, and never carry the secret', () => {
    const a = turnIceServers(settings)[0]!;
    const b = turnIceServers(settings)[0]!;
    expect(a.username).not.toBe(b.username);
    expect(a.credential).not.toBe(b.credential);
    expect(JSON.stringify([a, b])).not.toContain(SECRET);
  });

  it('bracket an IPv6 host and leave turns: out without a TLS port', () => {
    const [s] = turnIceServers({ ...settings, host: '2001:db8::1', tlsPort: undefined });
    expect(s!.urls).toEqual(['turn:[2001:db8::1]:3478?transport=udp', 'turn:[2001:db8::1]:3478?transport=tcp']);
  });
});

describe('coturn configuration', () => {
  const cfg = parseTurn({ CONFIDE_TURN_HOST: 'turn.clinic.example', CONFIDE_TURN_SECRET: SECRET }, media, undefined)!;
  const conf = coturnConfig(cfg, '/tmp/x');

  it('relays only to the SFU, over UDP, with REST-API credentials', () => {
    const lines = conf.split('\n');
    expect(lines).toContain('use-auth-secret');
    expect(lines).toContain(`static-auth-secret=${SECRET}`);
    expect(lines).toContain('no-tcp-relay');
    expect(lines).toContain('denied-peer-ip=0.0.0.0-255.255.255.255');
    expect(lines.filter((l) => l.startsWith('allowed-peer-ip='))).toEqual(['allowed-peer-ip=10.0.0.5', 'allowed-peer-ip=203.0.113.10']);
    expect(lines).toContain('external-ip=203.0.113.10/10.0.0.5');
    expect(lines).toContain('no-tls');
  });

  it('listens on every address when the media listen on 0.0.0.0, and relays only to the announced one', () => {
    const all = parseTurn({ CONFIDE_TURN_HOST: '203.0.113.10' }, { ...media, listenIp: '0.0.0.0' }, undefined)!;
    const lines = coturnConfig(all, '/tmp/x').split('\n');
    expect(lines.some((l) => l.startsWith('listening-ip=') || l.startsWith('relay-ip='))).toBe(false);
    expect(lines).toContain('external-ip=203.0.113.10');
    expect(lines.filter((l) => l.startsWith('allowed-peer-ip='))).toEqual(['allowed-peer-ip=203.0.113.10']);
  });

  it('listens on TLS with the HTTPS certificate when a TLS port is given', () => {
    const tls = { certFile: '/etc/c.pem', keyFile: '/etc/k.pem' };
    const withTls = parseTurn({ CONFIDE_TURN_HOST: 'turn.clinic.example', CONFIDE_TURN_TLS_PORT: '443' }, media, tls)!;
    const lines = coturnConfig(withTls, '/tmp/x').split('\n');
    expect(lines).toEqual(expect.arrayContaining(['tls-listening-port=443', 'cert=/etc/c.pem', 'pkey=/etc/k.pem', 'no-tlsv1']));
    expect(lines).not.toContain('no-tls');
  });
});

describe('CONFIDE_TURN_* settings', () => {
  it('are off without CONFIDE_TURN_HOST, and draw a secret when none is given', () => {
    expect(parseTurn({}, media, undefined)).toBeUndefined();
    const a = parseTurn({ CONFIDE_TURN_HOST: '203.0.113.10' }, media, undefined)!;
    const b = parseTurn({ CONFIDE_TURN_HOST: '203.0.113.10' }, media, undefined)!;
    expect(a.secret.length).toBeGreaterThanOrEqual(40);
    expect(a.secret).not.toBe(b.secret);
    expect(a).toMatchObject({ port: 3478, tlsPort: undefined, external: false, relayPorts: { min: 49160, max: 59999 }, ttlMs: 4 * 3600_000 });
  });

  it('refuse what cannot work', () => {
    const host = { CONFIDE_TURN_HOST: 'turn.clinic.example' };
    expect(() => parseTurn({ ...host, CONFIDE_TURN_TLS_PORT: '443' }, media, undefined)).toThrow(/certificate/);
    expect(() => parseTurn({ ...host, CONFIDE_TURN_EXTERNAL: '1' }, media, undefined)).toThrow(/CONFIDE_TURN_SECRET/);
    expect(() => parseTurn({ ...host, CONFIDE_TURN_SECRET: 'short' }, media, undefined)).toThrow(/32/);
    expect(() => parseTurn({ ...host, CONFIDE_TURN_RELAY_PORTS: '80-90' }, media, undefined)).toThrow(/RELAY_PORTS/);
    expect(() => parseTurn({ ...host, CONFIDE_TURN_TTL_S: '5' }, media, undefined)).toThrow(/TTL/);
    expect(() => parseTurn({ CONFIDE_TURN_HOST: 'turn.example/?x' }, media, undefined)).toThrow(/CONFIDE_TURN_HOST/);
  });
});
