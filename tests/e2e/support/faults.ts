// Real faults for resilience tests and the bench: firewall rules on this
// machine's loopback (nftables, scoped to one test server's ports), closed
// engine.io connections, server restarts and killed SFU workers. Each waits
// for two-way decoding and returns the recovery time in ms.
import { execFileSync } from 'node:child_process';
import type { Page } from 'playwright-core';
import type { InboundStat } from '../../../client/call/test-hooks.ts';
import { inbound } from './call.ts';

/** Sum of framesDecoded over a page's video consumers. */
export async function videoFrames(page: Page): Promise<number> {
  const stats: InboundStat[] = await inbound(page).catch(() => []);
  return stats.filter((s) => s.kind === 'video').reduce((a, s) => a + s.framesDecoded, 0);
}

/**
 * Waits until every page decodes video again: framesDecoded rising over two
 * consecutive samples (100 ms apart) after `since` (ms since epoch). Returns
 * the time from `since` to the moment the last page started rising (ms).
 */
export async function twoWayAfter(pages: Page[], since: number, timeoutMs = 30_000): Promise<number> {
  const prev = new Map<Page, number>();
  const risingSince = new Map<Page, number>();
  const streak = new Map<Page, number>();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const now = Date.now();
    const samples = await Promise.all(pages.map((p) => videoFrames(p)));
    pages.forEach((p, i) => {
      const v = samples[i]!;
      const before = prev.get(p);
      prev.set(p, v);
      if (before !== undefined && v > before) {
        streak.set(p, (streak.get(p) ?? 0) + 1);
        if (!risingSince.has(p)) risingSince.set(p, now);
      } else {
        streak.set(p, 0);
        risingSince.delete(p);
      }
    });
    if (pages.every((p) => (streak.get(p) ?? 0) >= 2)) {
      return Math.max(...pages.map((p) => risingSince.get(p)!)) - since;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no two-way video within ${timeoutMs} ms; last samples ${JSON.stringify([...prev.values()])}`);
}

/** The longest pause in a page's decoded video while `during` runs (ms), sampled every 100 ms. */
export async function longestVideoGap(page: Page, during: Promise<unknown>): Promise<number> {
  let done = false;
  void during.finally(() => (done = true));
  let last = await videoFrames(page);
  let lastChange = Date.now();
  let worst = 0;
  while (!done) {
    await new Promise((r) => setTimeout(r, 100));
    const v = await videoFrames(page);
    const now = Date.now();
    if (v !== last) {
      worst = Math.max(worst, now - lastChange);
      last = v;
      lastChange = now;
    }
  }
  return Math.max(worst, Date.now() - lastChange);
}

/**
 * Drops, on loopback, all traffic to and from `ports` (TCP and UDP: media and
 * signalling of one test server), answering new TCP connections with a reset
 * like a network that is down. `ports` are single ports or "lo-hi" ranges.
 * Needs root (nftables). Returns a function that lifts the block.
 */
export function blockPorts(ports: (number | string)[]): () => void {
  const table = `confide_fault_${process.pid}`;
  const set = ports.join(', ');
  return inputRules(table, [
    `iif "lo" tcp dport { ${set} } tcp flags & (syn | ack) == syn reject with tcp reset`,
    `iif "lo" tcp sport { ${set} } tcp flags & rst == rst accept`,
    `iif "lo" tcp dport { ${set} } drop`,
    `iif "lo" tcp sport { ${set} } drop`,
    `iif "lo" udp dport { ${set} } drop`,
    `iif "lo" udp sport { ${set} } drop`,
  ]);
}

/** Installs nftables table `table` whose input chain holds `rules` (in order); returns a function that deletes it (once). */
function inputRules(table: string, rules: string[]): () => void {
  execFileSync('nft', ['-f', '-'], {
    input: `table inet ${table} {
      chain input {
        type filter hook input priority -10; policy accept;
        ${rules.join('\n        ')}
      }
    }`,
  });
  let lifted = false;
  return () => {
    if (lifted) return;
    lifted = true;
    execFileSync('nft', ['delete', 'table', 'inet', table]);
  };
}

/** Removes a block table left by a crashed earlier run of this process id (idempotent). */
export function clearBlocks(): void {
  try {
    execFileSync('nft', ['delete', 'table', 'inet', `confide_fault_${process.pid}`], { stdio: 'ignore' });
  } catch {
    // none
  }
}

/**
 * Drops what a restrictive network drops: packets of `protocols` to and from
 * the SFU's media `port` (on any interface of this host), except those of
 * the TURN relay's own ports (`relayPorts`, "min-max": the relay is the
 * server's, outside the patient's network). Needs root (nftables). Returns a
 * function that lifts the block.
 */
export function blockMediaPort(port: number, protocols: ('udp' | 'tcp')[], relayPorts: string): () => void {
  return inputRules(
    `confide_media_${process.pid}`,
    protocols.flatMap((p) => [`${p} dport ${port} ${p} sport != ${relayPorts} drop`, `${p} sport ${port} ${p} dport != ${relayPorts} drop`]),
  );
}
