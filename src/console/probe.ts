/**
 * Asks a ZooKeeper-protocol server (zabkeeper or Apache) a four-letter word on its client port:
 * what the console uses to see every member of an ensemble, whoever is running it.
 */
import net from 'node:net';

/** Sends a four-letter word and returns everything the server writes before closing. */
export function fourLetter(port: number, cmd: string, timeoutMs = 5000, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(port, host, () => sock.write(cmd));
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`4lw ${cmd}: timeout`));
    }, timeoutMs);
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** `mntr` output as key -> number (or string for non-numeric values). */
export function parseMntr(text: string): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.split('\t');
    if (!k || v === undefined) continue;
    const n = Number(v);
    out[k.replace(/^zk_/, '')] = Number.isFinite(n) && v.trim() !== '' ? n : v.trim();
  }
  return out;
}

/** The role and zxid lines of `srvr`. */
export function parseSrvr(text: string): { mode?: string; zxid?: bigint; connections?: number; nodes?: number } {
  const field = (name: string) => new RegExp(`^${name}: (.+)$`, 'm').exec(text)?.[1]?.trim();
  const zxid = field('Zxid');
  const out: { mode?: string; zxid?: bigint; connections?: number; nodes?: number } = {};
  const mode = field('Mode');
  if (mode) out.mode = mode;
  if (zxid) out.zxid = BigInt(zxid);
  const conns = field('Connections');
  if (conns) out.connections = Number(conns);
  const nodes = field('Node count');
  if (nodes) out.nodes = Number(nodes);
  return out;
}
