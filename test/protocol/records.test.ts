/**
 * Proves every record round-trips (fast-check), that sizes match the fact sheet, that readers are
 * lenient exactly where the protocol says (null strings/vectors, optional readOnly), and that random
 * bytes only ever fail with JuteDecodeError.
 */
import fc from 'fast-check';
import { JuteDecodeError } from '../../protocol/jute/errors';
import { JuteReader } from '../../protocol/jute/reader';
import { JuteWriter } from '../../protocol/jute/writer';
import * as rec from '../../protocol/jute/records';
import { emptyStat, OPEN_ACL_UNSAFE } from '../../protocol/jute/data';
import {
  arbACL, arbACLs, arbClientInfo, arbCreate, arbCreateTTL, arbId, arbStat, bytes, codec, codecs,
  hex, int32, int64, nullableBytes, path_, plain, str, strings,
} from './helpers';

const pathWatch = fc.record({ path: path_, watch: fc.boolean() });
const pathVersion = fc.record({ path: path_, version: int32 });
const pathType = fc.record({ path: path_, type: int32 });
const pathOnly = fc.record({ path: path_ });
const statOnly = fc.record({ stat: arbStat });
const token = fc.record({ token: nullableBytes });
const setWatches = fc.record({ relativeZxid: int64, dataWatches: strings, existWatches: strings, childWatches: strings });

const arbitraries: Record<string, fc.Arbitrary<unknown>> = {
  Id: arbId,
  ACL: arbACL,
  Stat: arbStat,
  ClientInfo: arbClientInfo,
  RequestHeader: fc.record({ xid: int32, type: int32 }),
  ReplyHeader: fc.record({ xid: int32, zxid: int64, err: int32 }),
  ConnectRequest: fc.record(
    { protocolVersion: int32, lastZxidSeen: int64, timeOut: int32, sessionId: int64, passwd: nullableBytes, readOnly: fc.boolean() },
    { requiredKeys: ['protocolVersion', 'lastZxidSeen', 'timeOut', 'sessionId', 'passwd'] },
  ),
  ConnectResponse: fc.record(
    { protocolVersion: int32, timeOut: int32, sessionId: int64, passwd: nullableBytes, readOnly: fc.boolean() },
    { requiredKeys: ['protocolVersion', 'timeOut', 'sessionId', 'passwd'] },
  ),
  CreateRequest: arbCreate,
  CreateTTLRequest: arbCreateTTL,
  CreateResponse: pathOnly,
  Create2Response: fc.record({ path: path_, stat: arbStat }),
  DeleteRequest: pathVersion,
  CheckVersionRequest: pathVersion,
  ExistsRequest: pathWatch,
  ExistsResponse: statOnly,
  GetDataRequest: pathWatch,
  GetDataResponse: fc.record({ data: nullableBytes, stat: arbStat }),
  SetDataRequest: fc.record({ path: path_, data: nullableBytes, version: int32 }),
  SetDataResponse: statOnly,
  GetACLRequest: pathOnly,
  GetACLResponse: fc.record({ acl: arbACLs, stat: arbStat }),
  SetACLRequest: fc.record({ path: path_, acl: arbACLs, version: int32 }),
  SetACLResponse: statOnly,
  GetChildrenRequest: pathWatch,
  GetChildrenResponse: fc.record({ children: strings }),
  GetChildren2Request: pathWatch,
  GetChildren2Response: fc.record({ children: strings, stat: arbStat }),
  GetAllChildrenNumberRequest: pathOnly,
  GetAllChildrenNumberResponse: fc.record({ totalNumber: int32 }),
  SyncRequest: pathOnly,
  SyncResponse: pathOnly,
  GetEphemeralsRequest: fc.record({ prefixPath: str }),
  GetEphemeralsResponse: fc.record({ ephemerals: strings }),
  WhoAmIResponse: fc.record({ clientInfo: fc.array(arbClientInfo, { maxLength: 4 }) }),
  CheckWatchesRequest: pathType,
  RemoveWatchesRequest: pathType,
  AddWatchRequest: fc.record({ path: path_, mode: int32 }),
  SetWatches: setWatches,
  SetWatches2: fc.record({
    relativeZxid: int64, dataWatches: strings, existWatches: strings, childWatches: strings,
    persistentWatches: strings, persistentRecursiveWatches: strings,
  }),
  WatcherEvent: fc.record({ type: int32, state: int32, path: path_ }),
  AuthPacket: fc.record({ type: int32, scheme: str, auth: nullableBytes }),
  GetSASLRequest: token,
  SetSASLRequest: token,
  SetSASLResponse: token,
  ReconfigRequest: fc.record({
    joiningServers: fc.option(str, { nil: null }),
    leavingServers: fc.option(str, { nil: null }),
    newMembers: fc.option(str, { nil: null }),
    curConfigId: int64,
  }),
  ErrorResponse: fc.record({ err: int32 }),
  MultiHeader: fc.record({ type: int32, done: fc.boolean(), err: int32 }),
};

const encode = (name: string, v: unknown): Buffer => {
  const w = new JuteWriter(8);
  codec(name).write(w, v as never);
  return w.toBuffer();
};

test('every record codec (except multi bodies, see multi.test.ts) has an arbitrary', () => {
  const missing = Object.keys(codecs).filter((n) => !(n in arbitraries) && !n.startsWith('Multi'));
  expect(missing).toEqual([]);
});

describe.each(Object.entries(arbitraries))('%s', (name, arb) => {
  test('decode(encode(x)) = x and consumes every byte', () => {
    fc.assert(
      fc.property(arb, (v) => {
        const bytes = encode(name, v);
        const r = new JuteReader(bytes);
        expect(codec(name).read(r)).toStrictEqual(plain(v));
        expect(r.atEnd()).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  test('encode(decode(b)) = b for valid encodings', () => {
    fc.assert(
      fc.property(arb, (v) => {
        const bytes = encode(name, v);
        expect(encode(name, codec(name).read(new JuteReader(bytes))).equals(bytes)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  test('random bytes either decode or throw JuteDecodeError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (u) => {
        try {
          codec(name).read(new JuteReader(Buffer.from(u)));
        } catch (e) {
          if (!(e instanceof JuteDecodeError)) throw e;
        }
      }),
      { numRuns: 100 },
    );
  });

  test('a random strict prefix of an encoding fails with JuteDecodeError', () => {
    fc.assert(
      fc.property(arb, fc.nat(), (v, n) => {
        const full = encode(name, v);
        const optionalTail = (v as { readOnly?: boolean }).readOnly !== undefined ? 1 : 0;
        if (full.length - optionalTail === 0) return;
        const cut = n % (full.length - optionalTail);
        expect(() => codec(name).read(new JuteReader(full.subarray(0, cut)))).toThrow(JuteDecodeError);
      }),
      { numRuns: 40 },
    );
  });
});

describe('layouts from the fact sheet', () => {
  test('Stat is 68 bytes in wire order', () => {
    const s = { ...emptyStat(), czxid: 1n, mzxid: 2n, ctime: 3n, mtime: 4n, version: 5, cversion: 6, aversion: 7, ephemeralOwner: 8n, dataLength: 9, numChildren: 10, pzxid: 11n };
    const b = encode('Stat', s);
    expect(b.length).toBe(rec.STAT_BYTES);
    expect(b.toString('hex')).toBe(
      '0000000000000001' + '0000000000000002' + '0000000000000003' + '0000000000000004' +
        '00000005' + '00000006' + '00000007' + '0000000000000008' + '00000009' + '0000000a' + '000000000000000b',
    );
  });

  test('MultiHeader is 9 bytes', () => {
    expect(encode('MultiHeader', { type: -1, done: true, err: -1 }).toString('hex')).toBe('ffffffff01ffffffff');
  });

  test('OPEN_ACL_UNSAFE as a vector', () => {
    const w = new JuteWriter();
    rec.writeACLList(w, OPEN_ACL_UNSAFE);
    expect(w.toBuffer().toString('hex')).toBe('00000001' + '0000001f' + '00000005776f726c64' + '00000006616e796f6e65');
  });

  test('container owner marker survives as a signed long', () => {
    const s = { ...emptyStat(), ephemeralOwner: -0x8000000000000000n };
    expect(rec.readStat(new JuteReader(encode('Stat', s))).ephemeralOwner).toBe(-0x8000000000000000n);
  });
});

describe('lenient reads the protocol requires', () => {
  test('null strings read as "" (kazoo sends "" as -1), e.g. an auth ACL id', () => {
    const b = hex('0000001f 00000004 61757468 ffffffff');
    expect(rec.readACL(new JuteReader(b))).toEqual({ perms: 31, id: { scheme: 'auth', id: '' } });
  });

  test('null vectors read as []', () => {
    const b = hex('00000002 2f61 ffffffff ffffffff 00000000');
    expect(rec.readCreateRequest(new JuteReader(b))).toEqual({ path: '/a', data: null, acl: [], flags: 0 });
    expect(rec.readGetChildrenResponse(new JuteReader(hex('ffffffff')))).toEqual({ children: [] });
  });

  test('ConnectRequest without the readOnly byte has no readOnly key', () => {
    const b = encode('ConnectRequest', { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 1, sessionId: 0n, passwd: Buffer.alloc(16) });
    expect(b.length).toBe(44);
    const got = rec.readConnectRequest(new JuteReader(b));
    expect('readOnly' in got).toBe(false);
  });

  test('ConnectRequest readOnly byte 1 reads true; bytes after it are ignored', () => {
    const b = Buffer.concat([encode('ConnectRequest', { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 1, sessionId: 0n, passwd: null, readOnly: true }), hex('ff')]);
    expect(rec.readConnectRequest(new JuteReader(b)).readOnly).toBe(true);
  });

  test('ConnectResponse is 36 bytes without readOnly, 37 with', () => {
    const base = { protocolVersion: 0, timeOut: 30000, sessionId: 1n, passwd: Buffer.alloc(16) };
    expect(encode('ConnectResponse', base).length).toBe(36);
    expect(encode('ConnectResponse', { ...base, readOnly: false }).length).toBe(37);
  });

  test('ReconfigRequest keeps null apart from ""', () => {
    const v = { joiningServers: null, leavingServers: '', newMembers: 'server.1=a:1:2;3', curConfigId: -1n };
    expect(rec.readReconfigRequest(new JuteReader(encode('ReconfigRequest', v)))).toEqual(v);
  });

  test('bytes are copied out of the frame', () => {
    fc.assert(
      fc.property(bytes, (data) => {
        const b = encode('SetDataRequest', { path: '/x', data, version: 0 });
        const got = rec.readSetDataRequest(new JuteReader(b));
        b.fill(0xee);
        expect(got.data).toEqual(data);
      }),
      { numRuns: 20 },
    );
  });
});
