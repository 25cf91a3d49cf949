// Runs Debian's redis-server (scripts/setup.sh installs it) for a test: on a
// free loopback port, no persistence (`--save ''`, no append-only file), its
// working folder a fresh temporary one, removed by stop().
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './nginx.ts';

export interface RunningRedis {
  /** `redis://127.0.0.1:<port>`: what CONFIDE_REDIS_URL would be. */
  url: string;
  port: number;
  /** The server's process id (a test may SIGSTOP/SIGKILL it). */
  pid: number;
  /** Stops redis-server (SIGTERM, then SIGKILL after 2 s) and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

/** Throws, saying how to install it, when Debian's redis-server is not there. */
export function requireRedis(): void {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error('redis-server not found: this test runs Debian\'s redis-server, which scripts/setup.sh installs (run "npm run setup")');
  }
}

/** Resolves once redis answers PING on 127.0.0.1:`port` with +PONG; rejects after `ms` or when `exited()` says so. */
async function answering(port: number, exited: () => boolean, log: () => string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`redis-server exited:\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
      s.setEncoding('utf8');
      s.once('data', (d: string) => (s.destroy(), resolve(d.startsWith('+PONG') || d.startsWith('-NOAUTH'))));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not answer on ${port} within ${ms} ms:\n${log()}`);
}

/**
 * Starts a redis-server of the test's own: `--port <free> --bind 127.0.0.1
 * --save ''` (and `--requirepass` with `password`) in a new temporary folder, in the foreground (a child of the
 * test, so it dies with the test's network namespace at worst). Throws with
 * redis's own output when it does not start.
 */
export async function startRedis(opts: { password?: string } = {}): Promise<RunningRedis> {
  requireRedis();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-redis-'));
  const port = await freePort();
  let out = '';
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', ...(opts.password ? ['--requirepass', opts.password] : [])],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out = (out + c).slice(-8_000)));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out = (out + c).slice(-8_000)));
  const done = () => child.exitCode !== null || child.signalCode !== null;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    await answering(port, done, () => out);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    cleanup();
    throw err;
  }
  return {
    url: opts.password ? `redis://:${encodeURIComponent(opts.password)}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    async stop() {
      if (!done()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
        await exited;
        clearTimeout(timer);
      }
      cleanup();
    },
  };
}
