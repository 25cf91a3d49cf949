// Three Confide nodes, each its own process, sharing one PostgreSQL and one
// Redis (Debian's, started in temporary folders on loopback ports), behind an
// nginx load balancer that is the clinic origin (issue 16). The balancer sits
// on 127.0.0.2 and the nodes' own origins on 127.0.0.1, so the staff cookie
// (the balancer's host) never reaches a node's origin: after a redirect, a
// doctor gets in with the staff ticket only, as with real host names.
// A test steers a browser to one entry node with a cookie (`lb_node`), as a
// sticky balancer would; that node's peers are its backups.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { openStores, type Stores } from '../../../server/store/index.ts';
import { databaseTarget } from '../../../server/store/database.ts';
import { startPostgres, type RunningPostgres } from '../../support/postgres.ts';
import { startRedis, type RunningRedis } from '../../support/redis.ts';
import { freePort, requireNginx } from '../../support/nginx.ts';
import { FAST_HASHER } from './server.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ENTRY = path.join(ROOT, 'tests/e2e/support/cluster-node-main.ts');
/** The balancer's address: another loopback host than the nodes', so cookies stay apart. */
const LB_HOST = '127.0.0.2';

export interface ClusterNodeProc {
  id: string;
  port: number;
  /** Its CONFIDE_PUBLIC_URL. */
  url: string;
  child: ChildProcess;
  /** Everything it printed (stdout and stderr), for failure messages. */
  log: () => string;
}

export class ClusterRig {
  pg!: RunningPostgres;
  redis!: RunningRedis;
  /** The test process's own view of the shared store (accounts, consultations, audit). */
  stores!: Stores;
  /** A client on the shared Redis (registry checks). */
  redisClient!: Redis;
  nodes: ClusterNodeProc[] = [];
  /** The clinic origin: the balancer. */
  lbUrl = '';
  private nginx: ChildProcess | undefined;
  /** What every node shares: the store's URL and the origins. */
  private shared: Record<string, string> = {};
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-cluster-'));

  /** Starts PostgreSQL and Redis, then node `ids[0]` (it migrates the store), the others, then the balancer. */
  async start(ids: string[]): Promise<void> {
    requireNginx();
    [this.pg, this.redis] = await Promise.all([startPostgres(), startRedis()]);
    const db = await this.pg.createDatabase();
    const ports = await Promise.all(ids.map(() => freePort()));
    const lbPort = await freePort();
    this.lbUrl = `http://${LB_HOST}:${lbPort}`;
    const urls = ports.map((p) => `http://127.0.0.1:${p}`);
    const origins = [this.lbUrl, ...urls].join(',');
    this.shared = { CONFIDE_DATABASE_URL: db, CONFIDE_ORIGINS: origins };
    const spawnNode = (i: number) => this.spawnNode(ids[i]!, ports[i]!, urls[i]!, this.shared);
    this.nodes.push(await spawnNode(0));
    this.nodes.push(...(await Promise.all(ids.slice(1).map((_, i) => spawnNode(i + 1)))));
    this.stores = await openStores(databaseTarget(this.dir, db), { passwordHasher: FAST_HASHER });
    this.redisClient = new Redis(this.redis.url, { maxRetriesPerRequest: 1 });
    await this.startBalancer(lbPort);
  }

  node(id: string): ClusterNodeProc {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  private spawnNode(id: string, port: number, url: string, env: Record<string, string>): Promise<ClusterNodeProc> {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...env,
        CONFIDE_PORT: String(port),
        CONFIDE_HOST: '127.0.0.1',
        CONFIDE_WORKERS: '1',
        CONFIDE_LOG_LEVEL: 'warn',
        CONFIDE_MEDIA_PORT: '0',
        CONFIDE_DATA_DIR: fs.mkdtempSync(path.join(this.dir, `${id}-`)),
        CONFIDE_REDIS_URL: this.redis.url,
        CONFIDE_NODE_ID: id,
        CONFIDE_PUBLIC_URL: url,
      },
    });
    let out = '';
    const log = () => out;
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${id} did not start in 60 s:\n${out}`)), 60_000);
      const onData = () => {
        if (!out.includes('READY ')) return;
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve({ id, port, url, child, log });
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`node ${id} exited (${code ?? signal}):\n${out}`));
      });
    });
  }

  /** nginx as the clinic origin: pages, API and first sockets to any live node; `lb_node=<id>` steers to one, the others as backups. */
  private async startBalancer(port: number): Promise<void> {
    const server = (n: ClusterNodeProc, backup = false) => `    server 127.0.0.1:${n.port} max_fails=1 fail_timeout=5s${backup ? ' backup' : ''};`;
    const upstreams = [
      `  upstream confide_nodes {\n${this.nodes.map((n) => server(n)).join('\n')}\n  }`,
      ...this.nodes.map((n) => `  upstream steer_${n.id.replace(/\W/g, '_')} {\n${[server(n), ...this.nodes.filter((o) => o !== n).map((o) => server(o, true))].join('\n')}\n  }`),
    ].join('\n');
    const steer = this.nodes.map((n) => `    ${n.id} steer_${n.id.replace(/\W/g, '_')};`).join('\n');
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${path.join(this.dir, t)};`).join('\n');
    const conf = `events { worker_connections 512; }
http {
${temp}
  access_log off;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  map $cookie_lb_node $confide_pool {
    default confide_nodes;
${steer}
  }
${upstreams}
  server {
    listen ${LB_HOST}:${port};
    location / {
      proxy_pass http://$confide_pool;
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      # A dead node: the next one, at once (its connect is refused).
      proxy_next_upstream error timeout;
      proxy_connect_timeout 1s;
      proxy_read_timeout 60s;
      proxy_buffering off;
    }
  }
}
`;
    const confFile = path.join(this.dir, 'nginx.conf');
    fs.writeFileSync(confFile, conf);
    const errorLog = path.join(this.dir, 'nginx-error.log');
    this.nginx = spawn('nginx', ['-p', this.dir, '-c', confFile, '-e', errorLog, '-g', `daemon off; master_process off; pid ${path.join(this.dir, 'nginx.pid')};`], {
      stdio: 'ignore',
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await fetch(`${this.lbUrl}/api/health`).then((r) => r.ok, () => false);
      if (ok) return;
      if (Date.now() > deadline || this.nginx.exitCode !== null) {
        throw new Error(`the balancer did not start:\n${fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : ''}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Starts a stopped (killed) node again, same id, port and address; resolves once it serves. */
  async restart(id: string): Promise<void> {
    const old = this.node(id);
    if (old.child.exitCode === null && old.child.signalCode === null) throw new Error(`node ${id} is still running`);
    const fresh = await this.spawnNode(id, old.port, old.url, this.shared);
    this.nodes[this.nodes.indexOf(old)] = fresh;
  }

  /** SIGKILLs a node (no clean release of anything); resolves once it is gone. Returns when the signal was sent (ms since the epoch). */
  async kill(id: string): Promise<number> {
    const n = this.node(id);
    const gone = new Promise<void>((resolve) => n.child.once('exit', () => resolve()));
    const at = Date.now();
    n.child.kill('SIGKILL');
    await gone;
    return at;
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) {
      if (n.child.exitCode === null && n.child.signalCode === null) {
        const gone = new Promise<void>((resolve) => n.child.once('exit', () => resolve()));
        n.child.kill('SIGTERM');
        const t = setTimeout(() => n.child.kill('SIGKILL'), 5_000);
        await gone;
        clearTimeout(t);
      }
    }
    this.nginx?.kill('SIGKILL');
    this.redisClient?.disconnect();
    await this.stores?.db.close();
    await Promise.all([this.redis?.stop(), this.pg?.stop()]);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
