/** Small shell helpers shared by the test harnesses (src/testing, scripts/lib, test/harness). */
import net from 'node:net';

/** A free TCP port on 127.0.0.1 (the OS picks it; a tiny race with other processes is accepted). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** zoo.cfg text: Java properties, key=value per line. */
export function zooCfgText(entries: Record<string, string>): string {
  return Object.entries(entries).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}
