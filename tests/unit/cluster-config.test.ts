// The several-node settings (issue 16): CONFIDE_REDIS_URL turns them on, and
// then a node id and a public URL are required; a bad value is refused at
// start with the variable's name, never echoing the Redis URL (a password).
import { describe, expect, it } from 'vitest';
import { parseCluster } from '../../server/cluster/cluster-config.ts';
import { loadConfig } from '../../server/config.ts';

const GOOD = { CONFIDE_REDIS_URL: 'redis://:s3cret@10.0.0.9:6379/0', CONFIDE_NODE_ID: 'node-a', CONFIDE_PUBLIC_URL: 'https://node-a.clinic.example/', CONFIDE_ORIGINS: 'https://clinic.example,https://node-a.clinic.example' };

describe('the cluster settings', () => {
  it('are off without CONFIDE_REDIS_URL: one node, nothing changes', () => {
    expect(parseCluster({})).toBeUndefined();
    expect(loadConfig({}).cluster).toBeUndefined();
    expect(() => parseCluster({ CONFIDE_NODE_ID: 'node-a' })).toThrow(/CONFIDE_REDIS_URL/);
    expect(() => parseCluster({ CONFIDE_PUBLIC_URL: 'https://a.example' })).toThrow(/CONFIDE_REDIS_URL/);
  });

  it('with CONFIDE_REDIS_URL, give the URL, the node id and the canonical public origin', () => {
    expect(loadConfig(GOOD).cluster).toEqual({
      redisUrl: GOOD.CONFIDE_REDIS_URL,
      nodeId: 'node-a',
      publicUrl: 'https://node-a.clinic.example',
    });
    expect(parseCluster({ ...GOOD, CONFIDE_REDIS_URL: 'rediss://redis.internal:6380' })?.redisUrl).toBe('rediss://redis.internal:6380');
    expect(parseCluster({ ...GOOD, CONFIDE_PUBLIC_URL: 'http://127.0.0.1:3001' })?.publicUrl).toBe('http://127.0.0.1:3001');
  });

  it('require a node id and a public URL, and refuse values that cannot work', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ CONFIDE_NODE_ID: '' }, /CONFIDE_NODE_ID/],
      [{ CONFIDE_PUBLIC_URL: '' }, /CONFIDE_PUBLIC_URL/],
      [{ CONFIDE_NODE_ID: 'node:a' }, /CONFIDE_NODE_ID/],
      [{ CONFIDE_NODE_ID: 'x'.repeat(65) }, /CONFIDE_NODE_ID/],
      [{ CONFIDE_PUBLIC_URL: 'https://node-a.clinic.example/app' }, /CONFIDE_PUBLIC_URL/],
      [{ CONFIDE_PUBLIC_URL: 'ftp://node-a.clinic.example' }, /CONFIDE_PUBLIC_URL/],
      [{ CONFIDE_PUBLIC_URL: 'http://node-a.clinic.example' }, /CONFIDE_PUBLIC_URL/],
      [{ CONFIDE_PUBLIC_URL: 'node-a.clinic.example' }, /CONFIDE_PUBLIC_URL/],
      [{ CONFIDE_REDIS_URL: 'http://10.0.0.9:6379' }, /CONFIDE_REDIS_URL/],
      [{ CONFIDE_REDIS_URL: 'not a url' }, /CONFIDE_REDIS_URL/],
    ];
    for (const [over, message] of bad) expect(() => parseCluster({ ...GOOD, ...over }), JSON.stringify(over)).toThrow(message);
  });

  it('need CONFIDE_ORIGINS to list this node: pages of the clinic origin open their sockets on it after a redirect', () => {
    expect(() => loadConfig({ ...GOOD, CONFIDE_ORIGINS: '' })).toThrow(/CONFIDE_ORIGINS/);
    expect(() => loadConfig({ ...GOOD, CONFIDE_ORIGINS: 'https://clinic.example' })).toThrow(/CONFIDE_ORIGINS/);
    expect(loadConfig(GOOD).allowedOrigins?.has('https://node-a.clinic.example')).toBe(true);
  });

  it('never put the Redis URL (it may hold a password) in an error', () => {
    const withSecret = 'redis+bad://:hunter2hunter2@10.0.0.9:6379';
    let message = '';
    try {
      parseCluster({ ...GOOD, CONFIDE_REDIS_URL: withSecret });
    } catch (err) {
      message = String(err);
    }
    expect(message).toMatch(/CONFIDE_REDIS_URL/);
    expect(message).not.toContain('hunter2');
  });
});
