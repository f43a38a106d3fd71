/** Proves the jute barrel re-exports every module, so callers can import the whole layer from one place. */
import * as jute from '../../protocol/jute';

test('index re-exports constants, data, codec, framer, records and multi', () => {
  const names = [
    'OpCode', 'ErrorCode', 'Xid', 'JUTE_MAX_BUFFER_DEFAULT', 'OPEN_ACL_UNSAFE', 'emptyStat',
    'JuteDecodeError', 'JuteReader', 'JuteWriter', 'FrameDecoder', 'FrameError', 'encodeFrame',
    'readConnectRequest', 'writeConnectResponse', 'readRequestHeader', 'writeReplyHeader', 'writeWatcherEvent',
    'readSetWatches2', 'readAddWatchRequest', 'writeErrorResponse', 'readACLList', 'readStat',
    'readMultiRequest', 'writeMultiResponse', 'failedMultiResults',
  ];
  for (const n of names) expect(jute).toHaveProperty(n);
});

test('a request frame can be built and read back through the barrel alone', () => {
  const w = new jute.JuteWriter();
  w.beginFrame();
  jute.writeRequestHeader(w, { xid: 1, type: jute.OpCode.exists });
  jute.writeExistsRequest(w, { path: '/a', watch: true });
  w.endFrame();
  const frames: Buffer[] = [];
  new jute.FrameDecoder({ maxFrameBytes: jute.JUTE_MAX_BUFFER_DEFAULT }).push(w.toBuffer(), (p) => frames.push(p));
  const r = new jute.JuteReader(frames[0]!);
  expect(jute.readRequestHeader(r)).toEqual({ xid: 1, type: 3 });
  expect(jute.readExistsRequest(r)).toEqual({ path: '/a', watch: true });
  expect(r.atEnd()).toBe(true);
});
