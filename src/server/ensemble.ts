import type { Logger } from 'pino';
import type { ServerSpec } from '../config';
import { decodePayload, encodePayload, PeerDecodeError } from '../../protocol/peer/codec';
import { entryIntact } from '../util/checksum';
import { QuorumCore, type PlantedBugs } from '../quorum/core';
import { quorumTiming, type QuorumTiming } from '../quorum/core/timing';
import { NoPeers, PeerTransport, type PeerBodyCodec } from '../quorum/transport';
import { durableStateOf, type ShellBugs } from '../quorum/execute';
import { quorumSecurity } from './quorumSecurity';
import { ZabReplicator, type ApplySlicing, type ZabHost } from '../quorum/zab';
import type { Store } from '../storage';
import type { Clock } from '../util/clock';
import type { Rng } from '../util/rng';
import type { Network } from '../util/network';
import type { PeerMessage } from '../../protocol/peer/messages';
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

/** Test-only: planted bugs and a small zxid counter limit, for the simulator. Never set in production. */
export interface ReplicationTestHooks {
  coreBugs?: PlantedBugs;
  shellBugs?: ShellBugs;
  /** Largest zxid counter before the leader must start a new epoch (ZOOKEEPER-1277). */
  counterMax?: bigint;
  /** Smaller apply slices than production's time budget (the simulator's clock stands still within a turn). */
  applySlicing?: ApplySlicing;
  /** false: log appends fsynced inline, on the event loop (default: off the loop, docs/log-writer.md). */
  fsyncOffLoop?: boolean;
}

/** What replication needs from the server it runs in. */
export type ReplicationHost = ZabHost & {
  ensembleShutdown: (() => Promise<void>) | undefined;
  readonly metrics: ServerMetrics;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly network: Network;
  readonly observer: { peerSent?(to: number, msg: PeerMessage): void; peerReceived?(from: number, msg: PeerMessage): void };
};

/**
 * Wires a server into replication: the pure QuorumCore (started from durable state only), its
 * peer links and the ZAB driver that executes the core's Readys. A standalone server is an
 * ensemble of one — a one-voter core with no peer links, electing itself at once — so both run
 * one write path, one executor and one zxid allocator.
 */
export async function buildReplication(
  host: ReplicationHost,
  store: Store,
  appliedZxid: bigint,
  options: ServerOptions,
  logger: Logger,
  hooks: ReplicationTestHooks = {},
): Promise<{ replicator: ZabReplicator; timing: QuorumTiming; snapSync: SnapshotSync }> {
  const e = options.ensemble;
  const myid = e?.myid ?? options.serverId;
  const members = e?.servers ?? [];
  if (e && !members.some((s) => s.id === myid)) throw new Error(`myid ${myid} is not one of the server.N lines`);
  const snapSync = new SnapshotSync(store, logger.child({ component: 'snap' }));
  const durable = durableStateOf(store, appliedZxid);
  const timing = quorumTiming({ tickTimeMs: options.tickTimeMs, initLimit: e?.initLimit ?? 10, syncLimit: e?.syncLimit ?? 5 });
  const core = new QuorumCore(
    {
      id: myid,
      voters: e ? members.filter((s) => s.role !== 'observer').map((s) => s.id) : [myid],
      observers: members.filter((s) => s.role === 'observer').map((s) => s.id),
      electionTimeoutTicks: timing.electionTimeoutTicks,
      syncLimitTicks: timing.syncLimitTicks,
      initLimitTicks: timing.initLimitTicks,
      pingIntervalTicks: timing.pingIntervalTicks,
      rng: host.rng,
      counterMax: hooks.counterMax,
    },
    durable,
    { hooks: { snapshot: () => snapSync.snapshotForSync() }, bugs: hooks.coreBugs },
  );
  const links = e ? await peerLinks(host, options, logger, snapSync) : new NoPeers();
  const replicator = new ZabReplicator(core, store, links, host, logger.child({ component: 'zab' }), host.clock, timing.coreTickMs, appliedZxid, hooks.shellBugs, hooks.applySlicing, hooks.fsyncOffLoop);
  const lastZxid = (durable.log.at(-1)?.zxid ?? durable.snapshotZxid ?? 0n).toString(16);
  if (e) logger.info({ myid, servers: members.length, quorumPort: members.find((s) => s.id === myid)!.quorumPort, lastZxid }, 'joining ensemble');
  return { replicator, timing, snapSync };
}

/** The peer transport on this member's quorum port (TLS and quorum auth per the config). */
async function peerLinks(host: ReplicationHost, options: ServerOptions, logger: Logger, snapSync: SnapshotSync): Promise<PeerTransport> {
  const e = options.ensemble!;
  const self = e.servers.find((s) => s.id === e.myid)!;
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
    network: host.network,
    clock: host.clock,
    rng: host.rng,
    observer: {
      sent: (to, msg) => {
        host.metrics.notePeerSent(to, msg, host.clock.now());
        host.observer.peerSent?.(to, msg);
      },
      received: (from, msg) => {
        host.metrics.notePeerReceived(from, msg, host.clock.now());
        host.observer.peerReceived?.(from, msg);
      },
    },
  });
  await transport.start();
  host.ensembleShutdown = () => {
    peerSec?.stop();
    return transport.close();
  };
  return transport;
}
