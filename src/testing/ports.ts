/** Small shell helpers shared by the test harnesses (src/testing, scripts/lib, test/harness). */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

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
 * Ports handed out by freePort stay reserved for the life of the process that asked, across every
 * process on the machine: a file per port under the temp dir, created exclusively and holding the
 * owner's pid. Without it, while a member is down for a restart its port passes the listen check
 * of another test process, which takes it, and the restart fails with EADDRINUSE (seen in CI).
 * A reservation whose owner is dead is taken over; ours are removed when this process exits.
 */
const RESERVATIONS = path.join(os.tmpdir(), 'zabkeeper-ports');
const reserved: string[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function reserve(port: number): boolean {
  const file = path.join(RESERVATIONS, String(port));
  fs.mkdirSync(RESERVATIONS, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      if (reserved.push(file) === 1) process.once('exit', () => reserved.forEach((f) => fs.rmSync(f, { force: true })));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(fs.readFileSync(file, 'utf8')) || 0;
      // An empty file is a reservation being written right now: taken.
      if (owner === 0 || owner === process.pid || alive(owner)) return false;
      fs.rmSync(file, { force: true });
    }
  }
  return false;
}

/**
 * A free TCP port for a server, chosen at random BELOW the kernel's ephemeral range, and reserved
 * (above). Ports the kernel hands out (listen(0)) come from the same range as the local ports of
 * every outgoing connection on the machine: while a member is down for a restart, any client
 * anywhere could take its port. Below the range only an explicit bind can collide, and the
 * reservation keeps other test processes from choosing it.
 */
export async function freePort(): Promise<number> {
  const low = Math.max(2048, Math.min(ephemeralLow(), 65535)) - 1;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 10000 + Math.floor(Math.random() * Math.max(1, low - 10000));
    if (reserve(port) && (await canListen(port))) return port;
  }
  throw new Error(`no free port found between 10000 and ${low}`);
}

/** zoo.cfg text: Java properties, key=value per line. */
export function zooCfgText(entries: Record<string, string>): string {
  return Object.entries(entries).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}
