import type net from 'node:net';

/**
 * A listener whose stop is bounded. net.Server.close() resolves only when every socket it accepted
 * has closed, so a peer that never sends its FIN (a half-open client, a dead host, a stalled TLS
 * handshake) would hold a graceful stop open for good; ZooKeeper's shutdown does not wait for its
 * clients either.
 */
export interface Drainable {
  /** Stops accepting new connections (idempotent); resolves when the last accepted socket closed. */
  stopAccepting(): Promise<void>;
  /** Waits up to `graceMs` for the accepted sockets to close, then destroys those still open. */
  drain(graceMs: number): Promise<void>;
}

export function drainable(server: net.Server): Drainable {
  const open = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  let closed: Promise<void> | undefined;
  const stopAccepting = (): Promise<void> => (closed ??= new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    stopAccepting,
    async drain(graceMs) {
      const all = stopAccepting();
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([all.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)))]);
      clearTimeout(timer);
      if (late) for (const s of open) s.destroy();
      await all;
    },
  };
}
