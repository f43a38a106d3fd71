/**
 * The quorum (peer-to-peer) message set: Fast Leader Election notifications plus the ZAB 1.0
 * discovery / synchronization / broadcast messages. These are our own frames (see the "Peer
 * protocol" section of protocol/README.md), not Apache ZooKeeper's quorum packets: only the client
 * port is byte-compatible with ZooKeeper.
 *
 * 64-bit quantities (zxid, session id) are bigint; epochs, rounds and ticks fit in a double.
 */

/** What a server believes it is doing, as carried in an FLE notification. */
export const ServerStates = ['looking', 'following', 'leading', 'observing'] as const;
export type ServerState = (typeof ServerStates)[number];

/** An FLE vote. Ordered by (peerEpoch, zxid, leader): see `compareVotes` in the quorum core. */
export interface Vote {
  leader: number;
  zxid: bigint;
  /** The candidate's currentEpoch (last epoch whose NEWLEADER it acknowledged). */
  peerEpoch: number;
}

/**
 * A learner's log summary, sent in ACKEPOCH so the leader can find the longest common prefix.
 * Entries up to `base` are in a snapshot (committed, hence in every leader's history); above it the
 * log is a run of per-epoch segments, each ending at `lastZxid`.
 */
export interface LogHistory {
  base: bigint;
  epochs: Array<{ epoch: number; lastZxid: bigint }>;
}

export type PeerMessage =
  // Fast Leader Election
  | { type: 'notification'; vote: Vote; round: number; state: ServerState }
  // Discovery
  | { type: 'followerinfo'; acceptedEpoch: number; lastZxid: bigint }
  | { type: 'observerinfo'; acceptedEpoch: number; lastZxid: bigint }
  | { type: 'leaderinfo'; epoch: number }
  | { type: 'ackepoch'; currentEpoch: number; lastZxid: bigint; history: LogHistory }
  // Synchronization: one of DIFF / TRUNC / SNAP, then PROPOSALs, then NEWLEADER; UPTODATE later.
  | { type: 'diff'; zxid: bigint }
  | { type: 'trunc'; zxid: bigint }
  /** `data` describes the snapshot (its size and checksum); the body follows as SNAPCHUNKs. */
  | { type: 'snap'; zxid: bigint; data: Buffer }
  /** One chunk of a SNAP's body, with its CRC-32; chunks are numbered from 0. */
  | { type: 'snapchunk'; seq: number; crc: number; data: Buffer }
  | { type: 'newleader'; epoch: number; zxid: bigint }
  | { type: 'uptodate'; zxid: bigint }
  // Broadcast
  | { type: 'proposal'; zxid: bigint; data: Buffer }
  | { type: 'ack'; zxid: bigint; newLeader: boolean }
  | { type: 'commit'; zxid: bigint }
  | { type: 'inform'; zxid: bigint; data: Buffer }
  /**
   * Leader -> learner: lease round `round`, and `echoed`, the highest round this learner's echoes
   * have reached so far. Learner -> leader: the echo of `round` (`echoed` 0).
   */
  | { type: 'ping'; round: number; echoed: number }
  /** Any peer -> any peer on an otherwise idle link, so a silent peer is noticed by timeout. */
  | { type: 'heartbeat' }
  // Learner -> leader services (carried for the server layer; the core passes them through)
  | { type: 'request'; data: Buffer }
  | { type: 'revalidate'; sessionId: bigint; timeoutMs: number; valid: boolean }
  /** Learner -> leader: a client sync (zxid unused, 0). Leader -> learner: the answer, once a quorum confirmed the leader. */
  | { type: 'sync'; zxid: bigint };

export type PeerMessageType = PeerMessage['type'];
export type MessageOf<T extends PeerMessageType> = Extract<PeerMessage, { type: T }>;
