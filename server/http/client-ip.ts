// Which address a request comes from, the same way for HTTP (fastify's
// `req.ip`, login throttling) and the signalling handshake (connection caps).
//
// Behind a reverse proxy the socket's address is the proxy's, and the client's
// is in X-Forwarded-For — which the client can also write. Only the entries
// that trusted proxies appended are believed (issue 12, item 4):
// - `{ hops: n }`: the last n hops are our proxies (the server is reachable
//   only through them): the client is the (n)-th address from the right;
// - `{ addresses: [...] }`: the proxies' addresses or CIDR ranges: addresses
//   are read from the right while they are trusted proxies.
// Fastify's own `trustProxy: true` takes the left-most entry, which a client
// rotating the header controls; a bare hop count is refused by fastify (it
// fails closed), hence the function form here.
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

/** No proxy, a hop count, or the proxies' addresses (CONFIDE_TRUST_PROXY, server/config.ts). */
export type TrustProxy = false | { hops: number } | { addresses: string[] };

/** proxy-addr's trust function: may the address at position `i` from the socket (0) leftwards be believed as a proxy? */
export type TrustFn = (addr: string, i: number) => boolean;

export function trustFn(trust: TrustProxy): TrustFn {
  if (trust === false) return () => false;
  if ('hops' in trust) {
    const hops = trust.hops;
    return (_addr, i) => i < hops;
  }
  return proxyAddr.compile(trust.addresses);
}

/** The client's address for `req` under `trust`. */
export function clientIp(req: IncomingMessage, trust: TrustFn): string {
  return proxyAddr(req, trust);
}
