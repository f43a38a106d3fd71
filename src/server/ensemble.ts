import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { ServerSpec } from '../config';
import { decodePayload, encodePayload, PeerDecodeError } from '../../protocol/peer/codec';
import type { PeerMessage } from '../../protocol/peer/messages';
import { entryIntact } from '../util/checksum';
import { QuorumCore } from '../quorum/core';
import { quorumTiming, type QuorumTiming } from '../quorum/core/timing';
import { PeerTransport, type PeerBodyCodec } from '../quorum/transport';
import { quorumSecurity } from './quorumSecurity';
import { ZabReplicator, type ZabHost } from '../quorum/zab';
import type { Store } from '../storage';
import { Prng } from '../util/prng';
import { SnapshotSync } from './snapsync';
import type { ServerOptions } from './options';
import type { ServerMetrics } from '../metrics/hub';

/** An ensemble member as the server runs it (zoo.cfg `server.N` lines plus myid). */
export interface EnsembleOptions {
  myid: number;
  servers: readonly ServerSpec[];
  initLimit: number;
  syncLimit: number;
  /** The membership's version, hex, as /zookeeper/config shows it (ZooCfg.configVersion); default '0'. */
  configVersion?: string;
  /** zoo.cfg quorumListenOnAllIPs: listen on the wildcard address instead of this server's line's host. */
  quorumListenOnAllIPs?: boolean;
}

/**
 * /zookeeper/config as ZooKeeper 3.5+ writes it: one `server.N=host:quorum:election:role;client`
 * line per member, then `version=<hex>` (0 for a static configuration, else the dynamic file's).
 * Curator's EnsembleTracker and `zkCli config` read it.
 */
export function ensembleConfigText(servers: readonly ServerSpec[], version = '0'): string {
  const lines = servers.map((s) => {
    const client = s.clientPort !== undefined ? `;${s.clientHost ?? '0.0.0.0'}:${s.clientPort}` : '';
    return `server.${s.id}=${s.host}:${s.quorumPort}:${s.electionPort}:${s.role}${client}`;
  });
  return [...lines, `version=${version}`].join('\n');
}

/** Largest peer frame (a SNAP's body travels as ~256 KiB chunks). */
const MAX_PEER_FRAME = 16 * 1024 * 1024;

/**
 * Every txn a peer sends is checked against its seal here, in the shell, before the core can
 * accept it: a damaged PROPOSAL or INFORM fails the frame, so the transport drops the link and the
 * leader resends the txn when the learner resyncs. Nothing damaged reaches the log (issue 9 item 6).
 */
function checkSeal(msg: PeerMessage): PeerMessage {
  if ((msg.type === 'proposal' || msg.type === 'inform') && !entryIntact(msg.zxid, msg.data)) {
    throw new PeerDecodeError(`${msg.type.toUpperCase()} 0x${msg.zxid.toString(16)} fails its checksum: damaged in transit or at the sender`);
  }
  return msg;
}

/** Peer frame bodies: version byte + strictly validated msgpack (protocol/peer/codec.ts), seals checked. */
export const peerBodyCodec: PeerBodyCodec = { encode: encodePayload, decode: (body) => checkSeal(decodePayload(body)) };

/**
 * Wires a server into its ensemble: the pure QuorumCore (started from durable state only), the
 * peer transport on this member's quorum port, and the ZAB driver that executes the core's Ready.
 */
export async function buildEnsemble(
  host: ZabHost & { ensembleShutdown: (() => Promise<void>) | undefined; readonly metrics: ServerMetrics },
  store: Store,
  appliedZxid: bigint,
  options: ServerOptions,
  logger: Logger,
): Promise<{ replicator: ZabReplicator; timing: QuorumTiming; snapSync: SnapshotSync }> {
  const e = options.ensemble!;
  const self = e.servers.find((s) => s.id === e.myid);
  if (!self) throw new Error(`myid ${e.myid} is not one of the server.N lines`);
  const snap = store.latestSnapshot();
  const snapshotZxid = snap?.zxid ?? 0n;
  const snapSync = new SnapshotSync(store, logger.child({ component: 'snap' }));
  const log = store.readLog(snapshotZxid);
  const hs = store.hardState();
  const timing = quorumTiming({ tickTimeMs: options.tickTimeMs, initLimit: e.initLimit, syncLimit: e.syncLimit });
  const core = new QuorumCore(
    {
      id: e.myid,
      voters: e.servers.filter((s) => s.role !== 'observer').map((s) => s.id),
      observers: e.servers.filter((s) => s.role === 'observer').map((s) => s.id),
      electionTimeoutTicks: timing.electionTimeoutTicks,
      syncLimitTicks: timing.syncLimitTicks,
      initLimitTicks: timing.initLimitTicks,
      pingIntervalTicks: timing.pingIntervalTicks,
      rng: new Prng(BigInt(e.myid) * 7919n + BigInt(Date.now())),
    },
    { acceptedEpoch: hs.acceptedEpoch, currentEpoch: hs.currentEpoch, log, snapshotZxid, appliedZxid },
    { hooks: { snapshot: () => snapSync.snapshotForSync() } },
  );
  // sslQuorum / portUnification / quorum.auth.*: read now, so a bad store or JAAS file stops the start.
  const peerSec = options.security ? quorumSecurity(options.security, logger.child({ component: 'peers' }), 5000) : undefined;
  const transport = new PeerTransport({
    security: peerSec?.security,
    self: e.myid,
    // The wildcard (no host: dual-stack where IPv6 is on) when this host's own name is not one of
    // its addresses (behind NAT, a container's service address), as ZooKeeper's quorumListenOnAllIPs.
    listen: { host: e.quorumListenOnAllIPs ? undefined : self.host, port: self.quorumPort },
    peers: e.servers.map((s) => ({ id: s.id, host: s.host, port: s.quorumPort })),
    codec: peerBodyCodec,
    logger: logger.child({ component: 'peers' }),
    // Frames are bounded (snapshots travel as chunks): a PROPOSAL or forwarded request carries at
    // most one value of jute.maxbuffer.
    maxFrameBytes: Math.max(MAX_PEER_FRAME, 4 * options.maxFrameBytes),
    streams: snapSync,
    observer: {
      sent: (to, msg) => host.metrics.notePeerSent(to, msg, performance.now()),
      received: (from, msg) => host.metrics.notePeerReceived(from, msg, performance.now()),
    },
  });
  await transport.start();
  host.ensembleShutdown = () => {
    peerSec?.stop();
    return transport.close();
  };
  const replicator = new ZabReplicator(core, store, transport, host, logger.child({ component: 'zab' }), timing.coreTickMs, appliedZxid);
  logger.info({ myid: e.myid, servers: e.servers.length, quorumPort: self.quorumPort, lastZxid: log.length ? log[log.length - 1].zxid.toString(16) : snapshotZxid.toString(16) }, 'joining ensemble');
  return { replicator, timing, snapSync };
}
