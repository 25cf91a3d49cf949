// Runs Debian's coturn (`turnserver`) as a child of Confide when TURN is
// configured: a config file of our own (0600, in a private temporary folder,
// removed on close) with the REST-API shared secret, a relay that may only
// send to the SFU's addresses (not an open relay for anyone with a
// credential), UDP relays only (what browsers use). A relay that exits is
// started again after a second.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { TurnConfig } from './turn-config.ts';
import { isUnspecifiedIp } from '../sfu/media-listen.ts';

/** coturn's configuration for `cfg` in its file format (one option per line). `dir`: a private folder for its pid and database files. */
export function coturnConfig(cfg: TurnConfig, dir: string): string {
  // 0.0.0.0 / ::: coturn listens and relays on every address by itself (no explicit lines).
  const any = isUnspecifiedIp(cfg.listenIp);
  const lines = [
    ...(any ? [] : [`listening-ip=${cfg.listenIp}`, `relay-ip=${cfg.listenIp}`]),
    `listening-port=${cfg.port}`,
    ...(cfg.externalIp ? [any ? `external-ip=${cfg.externalIp}` : `external-ip=${cfg.externalIp}/${cfg.listenIp}`] : []),
    `min-port=${cfg.relayPorts.min}`,
    `max-port=${cfg.relayPorts.max}`,
    'use-auth-secret',
    `static-auth-secret=${cfg.secret}`,
    'realm=confide',
    'fingerprint',
    'no-cli',
    'no-tcp-relay',
    'no-multicast-peers',
    'no-rfc5780',
    'no-software-attribute',
    'stale-nonce=600',
    'user-quota=12',
    // Only the SFU may be reached through the relay: everything else is refused.
    'denied-peer-ip=0.0.0.0-255.255.255.255',
    'denied-peer-ip=::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    ...cfg.allowedPeers.map((ip) => `allowed-peer-ip=${ip}`),
    `pidfile=${path.join(dir, 'turnserver.pid')}`,
    `userdb=${path.join(dir, 'turndb')}`,
    'log-file=stdout',
    'simple-log',
  ];
  if (cfg.tlsPort !== undefined && cfg.tls) {
    lines.push(`tls-listening-port=${cfg.tlsPort}`, `cert=${cfg.tls.certFile}`, `pkey=${cfg.tls.keyFile}`, 'no-tlsv1', 'no-tlsv1_1', 'no-dtls');
  } else {
    lines.push('no-tls', 'no-dtls');
  }
  return lines.join('\n') + '\n';
}

/** Resolves once something accepts TCP connections on ip:port; rejects after `timeoutMs`. */
async function listening(ip: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: ip === '0.0.0.0' ? '127.0.0.1' : ip, port });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`the TURN relay did not listen on ${ip}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A running coturn. */
export class Coturn {
  private child: ChildProcess | undefined;
  private closed = false;
  /** Times the relay exited and was started again (ops). */
  restarts = 0;

  private constructor(
    private readonly cfg: TurnConfig,
    private readonly dir: string,
    private readonly log: Logger,
    private readonly binary: string,
  ) {}

  /**
   * Starts coturn for `cfg` and waits until it listens (TCP on `cfg.port`).
   * Throws when `binary` (default `turnserver`, from apt's coturn) is missing or does not start.
   */
  static async start(cfg: TurnConfig, log: Logger, binary = process.env.CONFIDE_TURNSERVER_BIN || 'turnserver'): Promise<Coturn> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-turn-'));
    fs.writeFileSync(path.join(dir, 'turnserver.conf'), coturnConfig(cfg, dir), { mode: 0o600 });
    const turn = new Coturn(cfg, dir, log.child({ component: 'turn' }), binary);
    turn.spawn();
    try {
      await Promise.race([
        listening(cfg.listenIp, cfg.port, 10_000),
        new Promise((_, reject) => turn.child!.once('error', (err) => reject(new Error(`cannot start the TURN relay (${binary}): ${err.message}`)))),
      ]);
    } catch (err) {
      await turn.close();
      throw err;
    }
    turn.log.info({ port: cfg.port, tlsPort: cfg.tlsPort }, 'TURN relay listening');
    return turn;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private spawn(): void {
    const child = spawn(this.binary, ['-c', path.join(this.dir, 'turnserver.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    // coturn's own lines (allocations, errors): kept at debug level; they carry no secret.
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        if (/error/i.test(line)) this.log.warn({ line: line.slice(0, 300) }, 'coturn');
        else this.log.debug({ line: line.slice(0, 300) }, 'coturn');
      }
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    child.once('exit', (code, signal) => {
      if (this.closed || this.child !== child) return;
      this.restarts++;
      this.log.error({ code, signal }, 'the TURN relay exited; starting it again');
      setTimeout(() => {
        if (!this.closed) this.spawn();
      }, 1000).unref();
    });
    child.on('error', () => undefined); // reported by start(), or by 'exit'
  }

  /** Stops coturn (SIGTERM, then SIGKILL after 3 s) and removes its folder. */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
