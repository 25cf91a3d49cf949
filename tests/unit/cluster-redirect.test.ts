// The redirect answer of several nodes (issue 16; designed, not wired yet):
// a client must accept only a node origin it can safely open a socket to.
import { describe, expect, it } from 'vitest';
import { ElsewhereError, Redirect } from '../../shared/protocol/cluster.ts';

describe('the redirect answer', () => {
  it('accepts a node id with an https origin (http only on loopback)', () => {
    for (const url of ['https://node-b.clinic.example', 'https://node-b.clinic.example:8443', 'http://127.0.0.1:41234', 'https://node-b.clinic.example/']) {
      expect(Redirect.safeParse({ nodeId: 'node-b', url }).success, url).toBe(true);
    }
    const ack = { code: 'elsewhere', message: 'the room is on node-b', redirect: { nodeId: 'node-b', url: 'https://node-b.clinic.example' } };
    expect(ElsewhereError.parse(ack)).toEqual(ack);
  });

  it('refuses what a client must not follow: other schemes, plain http off loopback, credentials, paths, odd ids', () => {
    const bad = [
      { nodeId: 'node-b', url: 'javascript:alert(1)' },
      { nodeId: 'node-b', url: 'http://node-b.clinic.example' },
      { nodeId: 'node-b', url: 'wss://node-b.clinic.example' },
      { nodeId: 'node-b', url: 'https://user:pw@node-b.clinic.example' },
      { nodeId: 'node-b', url: 'https://node-b.clinic.example/socket.io' },
      { nodeId: 'node-b', url: 'https://node-b.clinic.example/?x=1' },
      { nodeId: 'node-b', url: 'https://node-b.clinic.example#x' },
      { nodeId: 'node b', url: 'https://node-b.clinic.example' },
      { nodeId: 'node-b', url: 'https://node-b.clinic.example', extra: 1 },
    ];
    for (const r of bad) expect(Redirect.safeParse(r).success, JSON.stringify(r)).toBe(false);
    expect(ElsewhereError.safeParse({ code: 'forbidden', message: '', redirect: { nodeId: 'b', url: 'https://b.example' } }).success).toBe(false);
  });
});
