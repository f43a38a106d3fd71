/** Self-tests for the compat harness pieces that need no ZooKeeper server. */
import * as net from 'net';
import { freePort } from './ports';
import { splitFrames, startProxy } from './proxy';
import { parseTargets } from './servers';

describe('parseTargets', () => {
  test('defaults to both targets, zabkeeper first', () => {
    expect(parseTargets(undefined)).toEqual(['zabkeeper', 'apache', 'zabkeeper-ensemble']);
  });
  test('parses a comma list', () => {
    expect(parseTargets('apache')).toEqual(['apache']);
    expect(parseTargets(' apache , zabkeeper ')).toEqual(['apache', 'zabkeeper']);
  });
  test('rejects unknown names instead of silently skipping', () => {
    expect(() => parseTargets('apache,zookeper')).toThrow(/unknown target zookeper/);
  });
});

describe('splitFrames', () => {
  test('splits complete length-prefixed frames and stops at a partial one', () => {
    const f = (body: string) => {
      const b = Buffer.from(body);
      const len = Buffer.alloc(4);
      len.writeInt32BE(b.length);
      return Buffer.concat([len, b]);
    };
    const stream = Buffer.concat([f('ab'), f(''), f('xyz').subarray(0, 5)]);
    expect(splitFrames(stream).map((x) => x.toString('hex'))).toEqual(['000000026162', '00000000']);
  });
});

describe('proxy', () => {
  test('forwards both ways, records direction, cutAll drops connections', async () => {
    const echo = net.createServer((s) => s.pipe(s));
    const port = await freePort();
    await new Promise<void>((r) => echo.listen(port, '127.0.0.1', () => r()));
    const proxy = await startProxy(port);
    const sock = net.connect(proxy.port, '127.0.0.1');
    const got = await new Promise<string>((resolve) => {
      sock.once('data', (d) => resolve(d.toString()));
      sock.write('ping');
    });
    expect(got).toBe('ping');
    expect(proxy.frames.map((f) => [f.direction, f.conn, f.data.toString()])).toEqual([
      ['client', 0, 'ping'],
      ['server', 0, 'ping'],
    ]);
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    proxy.cutAll();
    await closed;
    await proxy.close();
    await new Promise<void>((r) => echo.close(() => r()));
  });
});
