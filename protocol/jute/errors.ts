/**
 * Thrown by every decoding failure in the jute layer: truncated records, impossible lengths, unknown
 * multi sub-op types. The server maps it to MarshallingError (-5) for request bodies and to a dropped
 * connection for headers and handshakes, so the message only has to help a human reading the log.
 */
export class JuteDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JuteDecodeError';
  }
}
