/** Small shell helpers shared by the test harnesses (src/testing, scripts/lib, test/harness). */
import fs from 'node:fs';
import net from 'node:net';

const HOST = '127.0.0.1';

/** The kernel's range for outgoing connections' local ports (Linux; a common default elsewhere). */
function ephemeralLow(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

/**
 * A free TCP port for a server, chosen at random BELOW the kernel's ephemeral range. Ports the
 * kernel hands out (listen(0)) come from the same range as the local ports of every outgoing
 * connection on the machine: while a member is down for a restart, any client anywhere could
 * take its port and the restart fails with EADDRINUSE (seen on the busy CI machine). Below the
 * range only an explicit bind can collide, which the random choice and the check make unlikely.
 */
export async function freePort(): Promise<number> {
  const low = Math.max(2048, Math.min(ephemeralLow(), 65535)) - 1;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 10000 + Math.floor(Math.random() * Math.max(1, low - 10000));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found between 10000 and ${low}`);
}

/** zoo.cfg text: Java properties, key=value per line. */
export function zooCfgText(entries: Record<string, string>): string {
  return Object.entries(entries).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}
