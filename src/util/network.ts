import net from 'node:net';

/**
 * The network for the server shell, injected like the Clock: the client listener and the peer
 * transport create their servers and dial through it. Production passes `nodeNetwork`; the
 * simulator passes an in-memory network whose sockets and servers behave like Node's (the subset
 * the server uses: data/end/close/error events, write, end, destroy, pause/resume, cork, timeouts),
 * with delays, losses and partitions it decides.
 */
export interface Network {
  createServer(onConnection: (socket: net.Socket) => void): net.Server;
  connect(opts: { host: string; port: number; noDelay?: boolean }): net.Socket;
}

export const nodeNetwork: Network = {
  createServer: (onConnection) => net.createServer({ noDelay: true }, onConnection),
  connect: (opts) => net.connect(opts),
};
