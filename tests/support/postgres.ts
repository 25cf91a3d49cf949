// Runs a real PostgreSQL 15 from Debian's packages (scripts/setup.sh installs
// `postgresql`) for a test: its own cluster in a temporary folder, on a free
// loopback port, trust authentication for the role `confide`, stopped and
// deleted afterwards. No system service is involved. As root, initdb and
// pg_ctl run as the `postgres` user (PostgreSQL refuses to run as root), so
// the folder belongs to that user.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './nginx.ts';

const BIN = '/usr/lib/postgresql/15/bin';

export interface RunningPostgres {
  /** `postgres://confide@127.0.0.1:<port>/postgres`: the cluster's default database. */
  url: string;
  port: number;
  /** A new, empty database in this cluster; returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server (fast shutdown) and deletes its folder. */
  stop(): Promise<void>;
}

/** Throws, saying how to install it, when Debian's PostgreSQL 15 is not there. */
export function requirePostgres(): void {
  if (!fs.existsSync(path.join(BIN, 'pg_ctl'))) {
    throw new Error('PostgreSQL 15 not found: these tests run Debian\'s postgresql, which scripts/setup.sh installs (run "npm run setup")');
  }
}

/** `cmd args` as the postgres user when we are root (runuser), else as ourselves. */
function run(cmd: string, args: string[], timeoutMs = 60_000): string {
  const asRoot = process.getuid?.() === 0;
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return execFileSync(file, argv, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

let databases = 0;

/**
 * Starts a throw-away PostgreSQL 15 cluster on 127.0.0.1 (durability off: a
 * test's data need not survive a crash). Resolves once it accepts
 * connections; throws with the server's log if it does not start.
 */
export async function startPostgres(): Promise<RunningPostgres> {
  requirePostgres();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-pg-'));
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    fs.chownSync(dir, uid, gid);
  }
  const port = await freePort();
  try {
    run(path.join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'confide', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    run(path.join(BIN, 'pg_ctl'), ['-D', data, '-l', logFile, '-o', opts, '-w', '-t', '60', 'start']);
  } catch (err) {
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
    fs.rmSync(dir, { recursive: true, force: true });
    const e = err as { stderr?: string; message: string };
    throw new Error(`PostgreSQL did not start: ${e.stderr || e.message}\n${log}`);
  }
  const url = `postgres://confide@127.0.0.1:${port}/postgres`;
  let stopped = false;
  // pg_ctl detaches the server: should the test process end without stop(), it must not outlive it.
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    try {
      run(path.join(BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '10', 'stop'], 15_000);
    } catch {
      // already gone
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopSync);
  return {
    url,
    port,
    async createDatabase(name = `confide_test_${process.pid}_${++databases}`) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new RangeError('database name must be a plain identifier');
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://confide@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      process.off('exit', stopSync);
      try {
        run(path.join(BIN, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
