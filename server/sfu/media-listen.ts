// Where the SFU listens for media. By default every worker owns one mediasoup
// WebRtcServer: one UDP and one TCP port (base + the worker's index) that all
// of its WebRTC transports share, so a firewall opens two ports per worker.
// The older per-transport port range stays available (CONFIDE_MEDIA_PORT=range).
import type { types } from './mediasoup.ts';

/** Whether `ip` is the unspecified address (0.0.0.0 or ::): "every address" to bind, never one a browser can reach. */
export function isUnspecifiedIp(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}

/** How transports get their ports: a WebRtcServer per worker, or one port pair per transport from a range. */
export type MediaListen =
  | {
      mode: 'server';
      listenIp: string;
      announcedIp: string | undefined;
      /** Worker i listens on basePort + i (UDP and TCP); 0: a free port from the worker's range (tests). */
      basePort: number;
    }
  | { mode: 'range'; listenIp: string; announcedIp: string | undefined };

/** The WebRtcServer of worker number `index` (mediasoup listenInfos: one UDP, one TCP, same port). */
export function webRtcServerOptions(listen: Extract<MediaListen, { mode: 'server' }>, index: number): types.WebRtcServerOptions {
  const port = listen.basePort === 0 ? undefined : listen.basePort + index;
  const common = { ip: listen.listenIp, ...(listen.announcedIp ? { announcedIp: listen.announcedIp } : {}), ...(port ? { port } : {}) };
  return { listenInfos: [{ protocol: 'udp', ...common }, { protocol: 'tcp', ...common }] };
}

/** What a Router remembers of its worker (appData set by Room). */
export type RouterAppData = {
  workerPid: number;
  webRtcServer?: types.WebRtcServer;
};

/** The WebRtcServer a worker was started with (WorkerPool keeps it in the worker's appData), if any. */
export function webRtcServerOf(worker: types.Worker): types.WebRtcServer | undefined {
  return (worker.appData as { webRtcServer?: types.WebRtcServer }).webRtcServer;
}

/**
 * Options of a new WebRtcTransport: on the router's WebRtcServer when it has
 * one, else on its own ports from the worker's range.
 */
export function transportListen(
  listen: MediaListen,
  router: types.Router,
): { webRtcServer: types.WebRtcServer } | { listenIps: types.TransportListenIp[] } {
  const server = (router.appData as Partial<RouterAppData>).webRtcServer;
  if (listen.mode === 'server') {
    // Never fall back to a random port: a firewall open on the one port would drop it.
    if (!server || server.closed) throw new Error('the SFU worker has no WebRtcServer');
    return { webRtcServer: server };
  }
  return { listenIps: [{ ip: listen.listenIp, ...(listen.announcedIp ? { announcedIp: listen.announcedIp } : {}) }] };
}
