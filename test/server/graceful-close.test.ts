import net from 'node:net';
import { startInProc } from '../harness/inproc';
import { connectRequest } from '../harness/rawclient';
import { within } from '../harness/wait';
import { createClient } from '../../src/client';

/**
 * A graceful stop finishes while clients are connected: the server half-closes each client socket
 * after its last replies and still sees the client's FIN (a socket paused for the shutdown used to
 * stay half-open and hold the listener's close() forever), and a client that never closes its side
 * is cut off after a bounded grace instead of holding the stop open.
 */

test('close() completes with live clients that close their side when the server does', async () => {
  const srv = await startInProc();
  const clients = await Promise.all([0, 1, 2].map(() => createClient(`127.0.0.1:${srv.port}`, { reconnectDelayMs: 60_000 })));
  await Promise.all(clients.map((c, i) => c.create(`/c${i}`, 'x')));
  // Requests still arriving while the server stops: they sit unread in the paused sockets. Every
  // writer has finished a batch before the stop, so each socket carries traffic when it comes.
  let writing = true;
  let started!: () => void;
  const batches = new Set<number>();
  const allWriting = new Promise<void>((resolve) => (started = resolve));
  const writers = clients.map(async (c, i) => {
    while (writing) {
      await Promise.all(Array.from({ length: 50 }, () => c.exists('/c0').catch(() => undefined)));
      batches.add(i);
      if (batches.size === clients.length) started();
    }
  });
  await within(allWriting, 'a batch from every writer');
  await within(srv.server.close(), 'close() with three clients writing');
  writing = false;
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(writers);
  await srv.stop();
});

test('close() cuts off a client that keeps its side open', async () => {
  const srv = await startInProc();
  // A session is established, then the client ignores the server's FIN (allowHalfOpen).
  const sock = net.connect({ host: '127.0.0.1', port: srv.port, allowHalfOpen: true });
  sock.on('error', () => undefined);
  const gotReply = new Promise<void>((resolve) => sock.once('data', () => resolve()));
  const gotEnd = new Promise<void>((resolve) => sock.once('end', () => resolve()));
  const gotClose = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  sock.write(connectRequest({ timeoutMs: 30_000 }));
  await within(gotReply, 'the connect reply');
  await within(srv.server.close(), 'close() with a client that keeps its side open');
  await within(gotEnd, "the server's FIN"); // graceful first, then cut off
  // close() resolving means the listener counts no open socket: the server cut this one off.
  sock.destroy();
  await within(gotClose, 'our socket closed');
  await srv.stop();
});
