export * from './messages';
export {
  PEER_PROTOCOL_VERSION,
  PEER_FRAME_BYTES_MAX_DEFAULT,
  PeerFrameError,
  PeerDecodeError,
  PeerFrameDecoder,
  encodeBody,
  decodeBody,
  encodeFrame,
  encodePayload,
  decodePayload,
} from './codec';
