/**
 * Request/answer over a forked child's IPC channel, for the SFU capacity
 * bench's own processes (sfu-node.ts, sfu-generator.ts). Both ends are this
 * bench's code on this machine, so messages are typed, not validated.
 *
 * Wire: parent → child `{ id, req }`; child → parent `{ id, ok: true, res }`
 * or `{ id, ok: false, error }`.
 */
import { fork, type ChildProcess } from 'node:child_process';

interface Answer {
  id: number;
  ok: boolean;
  res?: unknown;
  error?: string;
}

/** A forked bench process (`file` run under the parent's own `--import tsx`) and its request channel. */
export class BenchChild<Req extends { op: string }> {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly proc: ChildProcess;
  /** Resolves once the child has set up its handler (requests sent before would be lost). */
  readonly ready: Promise<void>;

  constructor(file: URL, args: string[] = []) {
    this.proc = fork(file, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    let ready = () => {};
    this.ready = new Promise<void>((r) => (ready = r));
    this.proc.on('message', (m: Answer | { ready: true }) => {
      if ('ready' in m) return ready();
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.ok) w?.resolve(m.res);
      else w?.reject(new Error(m.error));
    });
    this.proc.on('exit', (code, signal) => {
      ready();
      for (const w of this.waiting.values()) w.reject(new Error(`bench child ${file.pathname} exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  get pid(): number {
    return this.proc.pid ?? NaN;
  }

  /** Sends one request; resolves with the child's answer, rejects with its error or when it exits. */
  request<T>(req: Req): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, req });
    });
  }

  /** Asks the child to close (`{ op: 'close' }`), then kills it if it has not exited after `graceMs`. */
  async close(graceMs = 2000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.request({ op: 'close' } as Req).catch(() => undefined);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  }
}

/** Child side: answers each request with `handle`'s result or error; exits after answering `close`. */
export function serve<Req extends { op: string }>(handle: (req: Req) => Promise<unknown> | unknown): void {
  process.on('message', async (m: { id: number; req: Req }) => {
    let answer: Answer;
    try {
      answer = { id: m.id, ok: true, res: await handle(m.req) };
    } catch (err) {
      answer = { id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    process.send?.(answer, () => {
      if (m.req.op === 'close') process.exit(0);
    });
  });
  process.on('disconnect', () => process.exit(0)); // the parent is gone
  process.send?.({ ready: true });
}
