// Several-node settings (issue 16): CONFIDE_REDIS_URL turns multi-node mode
// on; CONFIDE_NODE_ID names this node in the room registry; CONFIDE_PUBLIC_URL
// is where clients reach this very node (what a redirect to it will say).
import { canonicalOrigin } from '../http/origin-policy.ts';
import { NODE_ID_PATTERN, NodeOrigin } from '../../shared/protocol/cluster.ts';

export interface ClusterConfig {
  /** `redis://` or `rediss://` URL (may carry a password: never logged). */
  redisUrl: string;
  /** This node's id, unique among the nodes sharing the Redis. */
  nodeId: string;
  /** This node's public origin (`https://node-a.clinic.example`; http only on loopback), canonical. */
  publicUrl: string;
}

/**
 * The cluster settings from `env`, or undefined when CONFIDE_REDIS_URL is unset
 * (one node, in-memory state: nothing changes). With it, CONFIDE_NODE_ID and
 * CONFIDE_PUBLIC_URL are required: two nodes with one id would renew each
 * other's rooms, and a node without a public URL cannot be redirected to.
 * Throws (never echoing the Redis URL, which may hold a password) on a value
 * that cannot work.
 */
export function parseCluster(env: NodeJS.ProcessEnv): ClusterConfig | undefined {
  const redisUrl = env.CONFIDE_REDIS_URL?.trim() || undefined;
  const nodeId = env.CONFIDE_NODE_ID?.trim() || undefined;
  const publicRaw = env.CONFIDE_PUBLIC_URL?.trim() || undefined;
  if (!redisUrl) {
    if (nodeId || publicRaw) throw new Error('CONFIDE_NODE_ID and CONFIDE_PUBLIC_URL only mean something with CONFIDE_REDIS_URL (several nodes)');
    return undefined;
  }
  let u: URL | undefined;
  try {
    u = new URL(redisUrl);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'redis:' && u.protocol !== 'rediss:') || !u.hostname) {
    throw new Error('CONFIDE_REDIS_URL must be a redis:// or rediss:// URL (redis://[:password@]host:port[/db])');
  }
  if (!nodeId) throw new Error('CONFIDE_REDIS_URL needs CONFIDE_NODE_ID: a name unique to this node (letters, digits, _ . -; at most 64)');
  if (!NODE_ID_PATTERN.test(nodeId)) {
    throw new Error(`CONFIDE_NODE_ID must be letters, digits, _ . - (1 to 64 characters); got "${nodeId.slice(0, 100)}"`);
  }
  if (!publicRaw) throw new Error('CONFIDE_REDIS_URL needs CONFIDE_PUBLIC_URL: the origin clients use to reach this node (https://node-a.clinic.example)');
  // What a redirect will carry, so what clients accept (shared/protocol/cluster.ts): https, or http on loopback.
  const publicUrl = canonicalOrigin(publicRaw);
  if (!publicUrl || !NodeOrigin.safeParse(publicUrl).success) {
    throw new Error(`CONFIDE_PUBLIC_URL must be an https origin like https://node-a.clinic.example (no path; http only on loopback); got "${publicRaw.slice(0, 100)}"`);
  }
  return { redisUrl, nodeId, publicUrl };
}
