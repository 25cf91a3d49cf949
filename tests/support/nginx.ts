// Runs Debian's nginx (scripts/setup.sh installs it) with the deployment
// sample deploy/nginx/confide.conf in a temporary folder, on free loopback
// ports: the sample's own text, with only its ports, certificate and upstream
// swapped, so the file the docs point to is the one tested.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The deployment sample, as shipped. */
export const NGINX_SAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../deploy/nginx/confide.conf');

export interface RunningNginx {
  /** `https://127.0.0.1:<port>`: the sample's `listen 443 ssl` server. */
  url: string;
  /** `http://127.0.0.1:<port>`: the sample's `listen 80` redirect. */
  plainUrl: string;
  /** Stops nginx (SIGTERM, then SIGKILL after 2 s). */
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Throws, saying how to install it, when Debian's nginx is not there. */
export function requireNginx(): void {
  const r = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error('nginx not found: this test runs Debian\'s nginx, which scripts/setup.sh installs (run "npm run setup", "npm start" or "npm test")');
  }
}

/** `text` with `from` replaced by `to`; throws unless `from` occurs exactly once (the sample changed: update the test). */
function swapOnce(text: string, from: string, to: string): string {
  const n = text.split(from).length - 1;
  if (n !== 1) throw new Error(`${NGINX_SAMPLE}: expected "${from}" once, found it ${n} times`);
  return text.replace(from, () => to);
}

/** Resolves once 127.0.0.1:`port` accepts a connection; rejects if `child` exits first or after `ms`. */
async function listening(port: number, child: ChildProcess, log: () => string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}):\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not listen on ${port} within ${ms} ms:\n${log()}`);
}

/**
 * Starts nginx in `dir` (a fresh temporary folder) with the sample proxying to
 * Confide on 127.0.0.1:`upstreamPort`, TLS with `certFile`/`keyFile` (PEM).
 * `edit` may change the sample's text first (to break it on purpose). One
 * foreground process (`master_process off`: no workers to switch users for,
 * which a user namespace could not do), killed by stop(). Throws with nginx's
 * own error log when it does not start.
 */
export async function startNginx(opts: {
  dir: string;
  upstreamPort: number;
  certFile: string;
  keyFile: string;
  edit?: (conf: string) => string;
}): Promise<RunningNginx> {
  requireNginx();
  const { dir } = opts;
  const [httpsPort, httpPort] = [await freePort(), await freePort()];
  let site = fs.readFileSync(NGINX_SAMPLE, 'utf8');
  site = swapOnce(site, 'listen 80;', `listen 127.0.0.1:${httpPort};`);
  site = swapOnce(site, 'listen 443 ssl http2;', `listen 127.0.0.1:${httpsPort} ssl http2;`);
  site = swapOnce(site, '/etc/letsencrypt/live/clinic.example/fullchain.pem', opts.certFile);
  site = swapOnce(site, '/etc/letsencrypt/live/clinic.example/privkey.pem', opts.keyFile);
  site = swapOnce(site, 'proxy_pass http://127.0.0.1:3000;', `proxy_pass http://127.0.0.1:${opts.upstreamPort};`);
  site = opts.edit?.(site) ?? site;
  fs.writeFileSync(path.join(dir, 'confide.conf'), site);
  // What Debian's /etc/nginx/nginx.conf gives the sample (http {} around
  // sites-enabled/*), with nginx's scratch folders here instead of /var/lib/nginx.
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${path.join(dir, t)};`).join('\n');
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    `events { worker_connections 256; }\nhttp {\n${temp}\n  include ${path.join(dir, 'confide.conf')};\n}\n`,
  );
  const errorLog = path.join(dir, 'error.log');
  let stderr = '';
  const log = () => (fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : '') + stderr;
  const child = spawn(
    'nginx',
    ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', errorLog,
      '-g', `daemon off; master_process off; pid ${path.join(dir, 'nginx.pid')}; error_log ${errorLog} warn;`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await listening(httpsPort, child, log);
    await listening(httpPort, child, log);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    url: `https://127.0.0.1:${httpsPort}`,
    plainUrl: `http://127.0.0.1:${httpPort}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
