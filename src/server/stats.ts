/**
 * Server-wide counters for the four-letter words (srvr/stat/mntr) and `srst`. Plain numbers,
 * updated by the shell; latency is accumulated per reply.
 */
export class ServerStats {
  packetsReceived = 0;
  packetsSent = 0;
  notificationsSent = 0;
  rejectedConnections = 0;
  txnsCommitted = 0;
  commitBatches = 0;
  largestCommitBatch = 0;
  snapshotsTaken = 0;
  sessionsExpired = 0;
  minLatencyMs = 0;
  maxLatencyMs = 0;
  totalLatencyMs = 0;
  latencyCount = 0;

  noteLatency(ms: number): void {
    this.minLatencyMs = this.latencyCount === 0 ? ms : Math.min(this.minLatencyMs, ms);
    this.maxLatencyMs = Math.max(this.maxLatencyMs, ms);
    this.totalLatencyMs += ms;
    this.latencyCount++;
    this.packetsSent++;
  }

  noteBatch(size: number): void {
    if (size === 0) return;
    this.commitBatches++;
    this.txnsCommitted += size;
    this.largestCommitBatch = Math.max(this.largestCommitBatch, size);
  }

  get avgLatencyMs(): number {
    return this.latencyCount === 0 ? 0 : this.totalLatencyMs / this.latencyCount;
  }

  /** `srst`: resets what ZooKeeper's ServerStats.reset() resets (latency and packet counts). */
  reset(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.minLatencyMs = 0;
    this.maxLatencyMs = 0;
    this.totalLatencyMs = 0;
    this.latencyCount = 0;
  }
}
