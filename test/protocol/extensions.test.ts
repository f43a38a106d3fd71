/**
 * Proves the codecs of zabkeeper's protocol extensions three ways (parse(bytes) = object, encode =
 * bytes, round trip), with expected bytes written out by hand; that a ConnectRequest/Response
 * without the trailer is byte-for-byte Apache's; and that bytes after readOnly that are not the
 * trailer's magic are ignored, as Apache ignores ours.
 */
import fc from 'fast-check';
import { JuteReader } from '../../protocol/jute/reader';
import { JuteWriter } from '../../protocol/jute/writer';
import { readConnectRequest, readConnectResponse, writeConnectRequest, writeConnectResponse, FEATURES_MAGIC, type ConnectRequest } from '../../protocol/jute/records';
import {
  readEventDetail,
  readResumeWatchRequest,
  readResumeWatchResponse,
  writeEventDetail,
  writeResumeWatchRequest,
  writeResumeWatchResponse,
  resumedEventBytes,
  type ResumeWatchResponse,
} from '../../protocol/jute/extensions';
import { arbStat, hex, int32, int64, nullableBytes, path_ } from './helpers';

const encode = (write: (w: JuteWriter) => void): Buffer => {
  const w = new JuteWriter(64);
  write(w);
  return w.toBuffer();
};

/** Reads with `read` and checks the whole buffer was consumed. */
function decode<T>(bytes: Buffer, read: (r: JuteReader) => T): T {
  const r = new JuteReader(bytes);
  const v = read(r);
  expect(r.atEnd()).toBe(true);
  return v;
}

const CONNECT_BASE =
  '00000000' + // protocolVersion
  '0000000000000007' + // lastZxidSeen
  '00007530' + // timeOut 30000
  '0000000000000000' + // sessionId
  '00000010' + '00'.repeat(16) + // passwd
  '00'; // readOnly false

describe('handshake trailer', () => {
  const req: ConnectRequest = { protocolVersion: 0, lastZxidSeen: 7n, timeOut: 30000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false };

  test('ConnectRequest with features: magic "ZKX1" then the bits, after readOnly', () => {
    const bytes = hex(CONNECT_BASE + '5a4b5831' + '00000001');
    expect(encode((w) => writeConnectRequest(w, { ...req, features: 1 }))).toEqual(bytes);
    expect(decode(bytes, readConnectRequest)).toEqual({ ...req, features: 1 });
    expect(FEATURES_MAGIC).toBe(0x5a4b5831);
  });

  test('without features the request is exactly what Apache clients send', () => {
    expect(encode((w) => writeConnectRequest(w, req))).toEqual(hex(CONNECT_BASE));
    expect(decode(hex(CONNECT_BASE), readConnectRequest)).toEqual(req);
  });

  test('other bytes after readOnly are not a trailer', () => {
    const r = new JuteReader(hex(CONNECT_BASE + '01020304' + '00000001'));
    expect(readConnectRequest(r)).toEqual(req);
  });

  test('ConnectResponse: granted features only when asked; round trip', () => {
    const res = { protocolVersion: 0, timeOut: 4000, sessionId: 5n, passwd: Buffer.alloc(16, 1), readOnly: false };
    const base = '00000000' + '00000fa0' + '0000000000000005' + '00000010' + '01'.repeat(16) + '00';
    expect(encode((w) => writeConnectResponse(w, { ...res, features: 0 }))).toEqual(hex(base + '5a4b5831' + '00000000'));
    expect(encode((w) => writeConnectResponse(w, res))).toEqual(hex(base));
    fc.assert(
      fc.property(fc.record({ protocolVersion: int32, timeOut: int32, sessionId: int64, passwd: nullableBytes, readOnly: fc.boolean(), features: int32 }), (v) => {
        expect(decode(encode((w) => writeConnectResponse(w, v)), readConnectResponse)).toEqual(v);
      }),
    );
  });
});

describe('resumeWatch', () => {
  test('request: path, mode, afterZxid, afterSeen, maxBytes, flags', () => {
    const v = { path: '/a', mode: 1, afterZxid: 0x100000002n, afterSeen: -1, maxBytes: 4096, flags: 1 };
    const bytes = hex('00000002' + '2f61' + '00000001' + '0000000100000002' + 'ffffffff' + '00001000' + '00000001');
    expect(encode((w) => writeResumeWatchRequest(w, v))).toEqual(bytes);
    expect(decode(bytes, readResumeWatchRequest)).toEqual(v);
  });

  test('response: events with optional Stat and data, then `more`', () => {
    const v: ResumeWatchResponse = {
      events: [
        { zxid: 3n, type: 2, path: '/x' },
        { zxid: 4n, type: 3, path: '/y', data: Buffer.from('hi') },
      ],
      more: true,
    };
    const bytes = hex(
      '00000002' + // two events
        '0000000000000003' + '00000002' + '00000002' + '2f78' + '00000000' + // deleted /x, no detail
        '0000000000000004' + '00000003' + '00000002' + '2f79' + '00000002' + '00000002' + '6869' + // data only
        '01', // more
    );
    expect(encode((w) => writeResumeWatchResponse(w, v))).toEqual(bytes);
    expect(decode(bytes, readResumeWatchResponse)).toEqual(v);
  });

  test('round trip, and resumedEventBytes is the encoded size', () => {
    const event = fc.record(
      { zxid: int64, type: int32, path: path_, stat: arbStat, data: nullableBytes },
      { requiredKeys: ['zxid', 'type', 'path'] },
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 5 }), fc.boolean(), (events, more) => {
        const bytes = encode((w) => writeResumeWatchResponse(w, { events, more }));
        expect(decode(bytes, readResumeWatchResponse)).toEqual({ events, more });
        expect(bytes.length).toBe(4 + events.reduce((n, e) => n + resumedEventBytes(e), 0) + 1);
      }),
    );
  });

  test('event detail: flags, Stat, data', () => {
    fc.assert(
      fc.property(fc.record({ stat: arbStat, data: nullableBytes }, { requiredKeys: [] }), (d) => {
        expect(decode(encode((w) => writeEventDetail(w, d)), readEventDetail)).toEqual(d);
      }),
    );
  });
});
