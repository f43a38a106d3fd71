/**
 * Proves the exact message flow of ZAB's synchronization phase, one readable transcript per
 * scenario (test/sim/transcripts/*.txt). Regenerate with UPDATE_TRANSCRIPTS=1 and review the diff.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Conversation, entry, zx } from './lib/transcript';

const DIR = path.join(__dirname, 'transcripts');
const UPDATE = process.env.UPDATE_TRANSCRIPTS === '1';

/** A follower n2 of {1,2,3} that has logged 1.1 and 1.2 and elects n1 (which claims a newer history). */
function follower(title: string, extra: Partial<ConstructorParameters<typeof Conversation>[1]> = {}): Conversation {
  const c = new Conversation(title, {
    id: 2,
    voters: [1, 2, 3],
    log: [entry('1.1'), entry('1.2')],
    acceptedEpoch: 1,
    currentEpoch: 1,
    ...extra,
  });
  c.up(1).recv(1, { type: 'notification', vote: { leader: 1, zxid: zx('1.3'), peerEpoch: 1 }, round: 1, state: 'looking' });
  return c;
}

/** The learner side up to the point where the leader starts synchronizing it. */
function followerInSync(title: string, extra: Partial<ConstructorParameters<typeof Conversation>[1]> = {}): Conversation {
  return follower(title, extra).recv(1, { type: 'leaderinfo', epoch: 2 });
}

/** Leader n1 of {1,2,3}, established in epoch 1 with n2 (n3 connected, not following). */
function leaderWithN2(title: string): Conversation {
  return new Conversation(title, { id: 1, voters: [1, 2, 3] })
    .up(2, 3)
    .recv(2, { type: 'notification', vote: { leader: 1, zxid: 0n, peerEpoch: 0 }, round: 1, state: 'looking' })
    .recv(2, { type: 'followerinfo', acceptedEpoch: 0, lastZxid: 0n })
    .recv(2, { type: 'ackepoch', currentEpoch: 0, lastZxid: 0n, history: { base: 0n, epochs: [] } })
    .recv(2, { type: 'ack', zxid: 0n, newLeader: true });
}

const scenarios: Record<string, () => Conversation> = {
  'fle-election': () =>
    new Conversation('FLE: a better vote (higher epoch, then zxid, then id) is adopted and re-broadcast; a quorum ends the round', {
      id: 2,
      voters: [1, 2, 3],
      log: [entry('1.1'), entry('1.2')],
      acceptedEpoch: 1,
      currentEpoch: 1,
    })
      .up(1, 3)
      .note('n1 has a lower zxid: we keep our own vote and tell it so')
      .recv(1, { type: 'notification', vote: { leader: 1, zxid: zx('1.1'), peerEpoch: 1 }, round: 1, state: 'looking' })
      .note('n3 has the same history and a higher id: it wins the tie on server id')
      .recv(3, { type: 'notification', vote: { leader: 3, zxid: zx('1.2'), peerEpoch: 1 }, round: 1, state: 'looking' })
      .status(),

  'fle-late-joiner': () =>
    new Conversation('A server that boots late joins the established leader from its peers\' answers', {
      id: 3,
      voters: [1, 2, 3],
    })
      .up(1, 2)
      .recv(2, { type: 'notification', vote: { leader: 1, zxid: zx('4.2'), peerEpoch: 5 }, round: 7, state: 'following' })
      .note('one follower is not enough: the leader itself must confirm it leads')
      .recv(1, { type: 'notification', vote: { leader: 1, zxid: zx('4.2'), peerEpoch: 5 }, round: 7, state: 'leading' })
      .status(),

  'fle-answers-while-following': () =>
    follower('A server out of the election answers a LOOKING peer with the leader and epoch it follows')
      .recv(1, { type: 'leaderinfo', epoch: 2 })
      .up(3)
      .recv(3, { type: 'notification', vote: { leader: 3, zxid: 0n, peerEpoch: 0 }, round: 1, state: 'looking' })
      .recv(3, { type: 'notification', vote: { leader: 3, zxid: 0n, peerEpoch: 0 }, round: 1, state: 'following' })
      .status(),

  'follower-diff': () =>
    followerInSync('Follower synced by DIFF: history is persisted with currentEpoch before the NEWLEADER ACK')
      .recv(1, { type: 'diff', zxid: zx('1.2') })
      .recv(1, { type: 'proposal', zxid: zx('1.3'), data: Buffer.from('v1.3') })
      .recv(1, { type: 'newleader', epoch: 2, zxid: zx('1.3') })
      .recv(1, { type: 'uptodate', zxid: zx('1.3') })
      .note('broadcast: PROPOSAL is ACKed in the Ready that persists it; COMMIT delivers it')
      .recv(1, { type: 'proposal', zxid: zx('2.1'), data: Buffer.from('v2.1') })
      .recv(1, { type: 'commit', zxid: zx('2.1') })
      .recv(1, { type: 'ping', round: 7, echoed: 6 })
      .note('the server layer forwards a client write; the leader core hands REQUEST to its server layer')
      .toLeader({ type: 'request', data: Buffer.from('create /a') })
      .status(),

  'follower-contact': () =>
    followerInSync('A follower counts how long since its leader confirmed an echo (its clients are dropped past a quarter of their session timeout)')
      .recv(1, { type: 'diff', zxid: zx('1.2') })
      .recv(1, { type: 'newleader', epoch: 2, zxid: zx('1.2') })
      .tick(2)
      .note('UPTODATE answers our NEWLEADER ACK: contact counts from when that ACK left')
      .recv(1, { type: 'uptodate', zxid: zx('1.2') })
      .contact()
      .recv(1, { type: 'ping', round: 1, echoed: 0 })
      .tick(3)
      .contact()
      .note('the leader got our echo of round 1 (sent 3 ticks ago): contact is 3 ticks old')
      .recv(1, { type: 'ping', round: 2, echoed: 1 })
      .contact()
      .note('cut off: pings may still arrive, but none confirms a newer echo, so the age keeps growing')
      .tick(4)
      .recv(1, { type: 'ping', round: 3, echoed: 1 })
      .contact(),

  'follower-trunc': () =>
    followerInSync('Follower with an uncommitted txn from an old epoch: TRUNC, then DIFF', {
      log: [entry('1.1'), entry('1.2'), entry('1.3', 'orphan')],
    })
      .recv(1, { type: 'trunc', zxid: zx('1.2') })
      .recv(1, { type: 'proposal', zxid: zx('1.3'), data: Buffer.from('v1.3') })
      .recv(1, { type: 'newleader', epoch: 2, zxid: zx('1.3') })
      .recv(1, { type: 'uptodate', zxid: zx('1.3') })
      .status(),

  'follower-snap': () =>
    followerInSync('Follower too far behind: SNAP replaces its log and state, then the tail follows')
      .recv(1, { type: 'snap', zxid: zx('1.7'), data: Buffer.from('state@1.7') })
      .recv(1, { type: 'proposal', zxid: zx('1.8'), data: Buffer.from('v1.8') })
      .recv(1, { type: 'newleader', epoch: 2, zxid: zx('1.8') })
      .recv(1, { type: 'uptodate', zxid: zx('1.8') })
      .status(),

  'newleader-crash-points': () => {
    const c = followerInSync('Crash at each step of NEWLEADER handling; the restarted server never claims more than it has');
    const syncAndNewLeader = (): void => {
      c.recv(1, { type: 'diff', zxid: zx('1.2') })
        .recv(1, { type: 'proposal', zxid: zx('1.3'), data: Buffer.from('v1.3') })
        .recv(1, { type: 'newleader', epoch: 2, zxid: zx('1.3') });
    };
    c.note('crash before the Ready is persisted: history and currentEpoch are both still old');
    c.recv(1, { type: 'diff', zxid: zx('1.2') }).recv(1, { type: 'proposal', zxid: zx('1.3'), data: Buffer.from('v1.3') });
    c.crashDuringNext('beforePersist').recv(1, { type: 'newleader', epoch: 2, zxid: zx('1.3') }).status();
    c.note('rejoin, then crash after the persist but before the ACK leaves: both history and currentEpoch are on disk');
    c.up(1).recv(1, { type: 'notification', vote: { leader: 1, zxid: zx('1.3'), peerEpoch: 2 }, round: 3, state: 'leading' });
    c.recv(3, { type: 'notification', vote: { leader: 1, zxid: zx('1.3'), peerEpoch: 2 }, round: 3, state: 'following' });
    c.recv(1, { type: 'leaderinfo', epoch: 2 });
    c.crashDuringNext('afterPersist');
    syncAndNewLeader();
    c.status();
    c.note('rejoin, then crash right after the ACK was sent: the leader may count it, and the disk backs it');
    c.up(1).recv(1, { type: 'notification', vote: { leader: 1, zxid: zx('1.3'), peerEpoch: 2 }, round: 3, state: 'leading' });
    c.recv(3, { type: 'notification', vote: { leader: 1, zxid: zx('1.3'), peerEpoch: 2 }, round: 3, state: 'following' });
    c.recv(1, { type: 'leaderinfo', epoch: 2 });
    c.recv(1, { type: 'diff', zxid: zx('1.3') });
    c.crashDuringNext('afterSend').recv(1, { type: 'newleader', epoch: 2, zxid: zx('1.3') });
    return c.status();
  },

  'planted-epoch-before-history': () =>
    followerInSync('PLANTED BUG epochBeforeHistory: currentEpoch and the ACK go out before the history is persisted', {
      bugs: { epochBeforeHistory: true },
    })
      .recv(1, { type: 'diff', zxid: zx('1.2') })
      .recv(1, { type: 'proposal', zxid: zx('1.3'), data: Buffer.from('v1.3') })
      .crashDuringNext('afterSend')
      .recv(1, { type: 'newleader', epoch: 2, zxid: zx('1.3') })
      .note('after the crash the server claims epoch 2 without 1.3: it could win an election and lose a committed txn')
      .status(),

  'duplicate-proposal': () =>
    followerInSync('A duplicate PROPOSAL is tolerated; a PROPOSAL with a hole drops the leader')
      .recv(1, { type: 'diff', zxid: zx('1.2') })
      .recv(1, { type: 'newleader', epoch: 2, zxid: zx('1.2') })
      .recv(1, { type: 'uptodate', zxid: zx('1.2') })
      .recv(1, { type: 'proposal', zxid: zx('2.1'), data: Buffer.from('v2.1') })
      .recv(1, { type: 'proposal', zxid: zx('2.1'), data: Buffer.from('v2.1') })
      .recv(1, { type: 'proposal', zxid: zx('2.3'), data: Buffer.from('v2.3') })
      .status(),

  'commit-between-newleader-and-uptodate': () =>
    followerInSync('PROPOSAL and COMMIT arriving between NEWLEADER and UPTODATE (ZOOKEEPER-4394/4685)')
      .recv(1, { type: 'diff', zxid: zx('1.2') })
      .recv(1, { type: 'proposal', zxid: zx('1.3'), data: Buffer.from('v1.3') })
      .recv(1, { type: 'newleader', epoch: 2, zxid: zx('1.3') })
      .recv(1, { type: 'proposal', zxid: zx('2.1'), data: Buffer.from('v2.1') })
      .recv(1, { type: 'commit', zxid: zx('2.1') })
      .recv(1, { type: 'uptodate', zxid: zx('1.3') })
      .note('a COMMIT for a zxid we never saw is a protocol violation')
      .recv(1, { type: 'commit', zxid: zx('2.9') })
      .status(),

  'follower-rejects-old-epoch': () =>
    follower('A LEADERINFO below our acceptedEpoch is refused (Z3)', { acceptedEpoch: 4, currentEpoch: 1 })
      .recv(1, { type: 'leaderinfo', epoch: 3 })
      .status(),

  'leader-sync-choices': () => {
    const c = new Conversation('Leader n1 picks DIFF for a lagging follower and TRUNC for one with an orphan txn', {
      id: 1,
      voters: [1, 2, 3],
      log: [entry('1.1'), entry('1.2'), entry('1.3'), entry('2.1')],
      acceptedEpoch: 2,
      currentEpoch: 2,
    });
    c.up(2, 3)
      .recv(2, { type: 'notification', vote: { leader: 1, zxid: zx('2.1'), peerEpoch: 2 }, round: 1, state: 'looking' })
      .recv(2, { type: 'followerinfo', acceptedEpoch: 2, lastZxid: zx('1.2') })
      .recv(3, { type: 'followerinfo', acceptedEpoch: 1, lastZxid: zx('1.4') })
      .recv(2, { type: 'ackepoch', currentEpoch: 1, lastZxid: zx('1.2'), history: { base: 0n, epochs: [{ epoch: 1, lastZxid: zx('1.2') }] } })
      .recv(3, { type: 'ackepoch', currentEpoch: 1, lastZxid: zx('1.4'), history: { base: 0n, epochs: [{ epoch: 1, lastZxid: zx('1.4') }] } })
      .note('one NEWLEADER ACK + the leader = quorum: commit the whole history, UPTODATE with the committed zxid')
      .recv(2, { type: 'ack', zxid: zx('2.1'), newLeader: true })
      .note('n3 is still syncing but already gets new PROPOSALs (issues.md #1)')
      .propose('x')
      .recv(2, { type: 'ack', zxid: zx('3.1'), newLeader: false })
      .recv(2, { type: 'request', data: Buffer.from('create /a') })
      .note('an ACK of a PROPOSAL before the NEWLEADER ACK is a violation: drop n3, keep leading')
      .recv(3, { type: 'ack', zxid: zx('3.1'), newLeader: false });
    return c.status();
  },

  'leader-snap': () => {
    const c = new Conversation('Leader whose log was compacted sends SNAP (plus the tail) to an empty follower', {
      id: 1,
      voters: [1, 2, 3],
      log: [entry('1.1'), entry('1.2'), entry('1.3')],
      acceptedEpoch: 1,
      currentEpoch: 1,
      appliedSnapshot: () => ({ zxid: zx('1.2'), data: Buffer.from('state@1.2') }),
    });
    c.up(2)
      .recv(2, { type: 'notification', vote: { leader: 1, zxid: zx('1.3'), peerEpoch: 1 }, round: 1, state: 'looking' })
      .recv(2, { type: 'followerinfo', acceptedEpoch: 1, lastZxid: zx('1.3') })
      .recv(2, { type: 'ackepoch', currentEpoch: 1, lastZxid: zx('1.3'), history: { base: 0n, epochs: [{ epoch: 1, lastZxid: zx('1.3') }] } })
      .recv(2, { type: 'ack', zxid: zx('1.3'), newLeader: true })
      .compact('1.2')
      .up(3)
      .recv(3, { type: 'followerinfo', acceptedEpoch: 0, lastZxid: 0n })
      .recv(3, { type: 'ackepoch', currentEpoch: 0, lastZxid: 0n, history: { base: 0n, epochs: [] } });
    return c.status();
  },

  'leader-behind-steps-down': () =>
    new Conversation('A follower with a newer history than the elected leader makes it give up (Z12)', {
      id: 1,
      voters: [1, 2, 3],
      log: [entry('1.1')],
      acceptedEpoch: 1,
      currentEpoch: 1,
    })
      .up(2)
      .recv(2, { type: 'notification', vote: { leader: 1, zxid: zx('1.1'), peerEpoch: 1 }, round: 1, state: 'looking' })
      .recv(2, { type: 'followerinfo', acceptedEpoch: 1, lastZxid: zx('1.2') })
      .recv(2, { type: 'ackepoch', currentEpoch: 1, lastZxid: zx('1.2'), history: { base: 0n, epochs: [{ epoch: 1, lastZxid: zx('1.2') }] } })
      .status(),

  'leader-makes-room': () =>
    leaderWithN2('A voter that accepted a newer epoch than ours cannot join: the leader steps down so the next epoch includes it')
      .recv(3, { type: 'followerinfo', acceptedEpoch: 1, lastZxid: 0n })
      .note('n3 accepted epoch 5 from a leader that never got established')
      .down(3)
      .up(3)
      .recv(3, { type: 'followerinfo', acceptedEpoch: 5, lastZxid: 0n })
      .status(),

  'leader-sync-needs-quorum': () =>
    leaderWithN2('sync is answered only after a quorum echoed a PING round sent after it (ZOOKEEPER-1675)')
      .tick(1)
      .propose('x')
      .note('a client sync: round 2 goes out at once; the echo of round 1 (sent before the sync arrived) does not answer it')
      .sync()
      .recv(2, { type: 'ping', round: 1, echoed: 0 })
      .note('n2 echoes round 2: n2 + the leader are a quorum, so the sync is answered with the zxid proposed when it arrived')
      .recv(2, { type: 'ping', round: 2, echoed: 0 })
      .note("a learner's SYNC is answered the same way, with a SYNC message")
      .recv(2, { type: 'sync', zxid: 0n })
      .recv(2, { type: 'ping', round: 3, echoed: 0 })
      .note('n2 goes silent: no echo, so a new sync is never answered; the lease runs out and the leader steps down')
      .sync()
      .tick(5)
      .status(),

  'leader-loses-quorum': () =>
    new Conversation('An established leader whose followers stop answering PINGs steps down within syncLimit (Z13)', {
      id: 1,
      voters: [1, 2, 3],
    })
      .up(2)
      .recv(2, { type: 'notification', vote: { leader: 1, zxid: 0n, peerEpoch: 0 }, round: 1, state: 'looking' })
      .recv(2, { type: 'followerinfo', acceptedEpoch: 0, lastZxid: 0n })
      .recv(2, { type: 'ackepoch', currentEpoch: 0, lastZxid: 0n, history: { base: 0n, epochs: [] } })
      .recv(2, { type: 'ack', zxid: 0n, newLeader: true })
      .tick(1)
      .recv(2, { type: 'ping', round: 1, echoed: 0 })
      .tick(3)
      .status()
      .note('tick 5: the newest echo (tick 1) is syncLimit-1 ticks old, so the lease is gone')
      .tick(1)
      .status(),
};

describe('sync-phase transcripts', () => {
  for (const [name, run] of Object.entries(scenarios)) {
    it(name, () => {
      const text = run().text;
      const file = path.join(DIR, `${name}.txt`);
      if (UPDATE || !fs.existsSync(file)) {
        fs.mkdirSync(DIR, { recursive: true });
        fs.writeFileSync(file, text);
        if (!UPDATE) throw new Error(`${file} did not exist; written now, review it and re-run`);
      }
      expect(text).toBe(fs.readFileSync(file, 'utf8'));
    });
  }
});
