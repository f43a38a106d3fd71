/**
 * Proves the exact message flow of ZAB's election and synchronization phases, one readable
 * transcript per scenario: each test/sim/transcripts/*.txt holds its own commands (`> ` lines) and
 * the expected output under each; a transcript named for a sync mode must show that mode carried out.
 * Regenerate the outputs with UPDATE_TRANSCRIPTS=1 and review the diff.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runScript } from './lib/transcript';

const DIR = path.join(__dirname, 'transcripts');
const UPDATE = process.env.UPDATE_TRANSCRIPTS === '1';
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort();

/**
 * What a transcript named for a sync mode must show. A follower must act on the leader's message
 * (not ignore it) and end up in broadcast; a leader must send it.
 */
const SYNC_MODES: Record<string, { follower: RegExp[]; leader: RegExp }> = {
  diff: { follower: [/^> from n\d+: DIFF /m], leader: /^ {2}send n\d+: DIFF /m },
  trunc: { follower: [/^> from n\d+: TRUNC /m, /^ {2}persist: truncate after /m], leader: /^ {2}send n\d+: TRUNC /m },
  snap: { follower: [/^> from n\d+: SNAP /m, /^ {2}persist: snapshot /m], leader: /^ {2}send n\d+: SNAP /m },
};

/** The claims a file name makes: `follower-trunc` says a follower is synced by TRUNC. */
function claims(name: string): Array<{ side: 'follower' | 'leader'; mode: string }> {
  const [side, ...words] = name.split('-');
  if (side !== 'follower' && side !== 'leader') return [];
  return words.filter((w) => w in SYNC_MODES).map((mode) => ({ side, mode }));
}

describe('ZAB transcripts', () => {
  it('there are transcripts', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  for (const file of files) {
    const name = file.replace(/\.txt$/, '');
    it(name, () => {
      const full = path.join(DIR, file);
      const text = fs.readFileSync(full, 'utf8');
      const actual = runScript(text);
      if (UPDATE) fs.writeFileSync(full, actual);
      expect(actual).toBe(text);
      for (const { side, mode } of claims(name)) {
        const want = SYNC_MODES[mode]!;
        if (side === 'leader') {
          expect(actual).toMatch(want.leader);
          continue;
        }
        for (const re of want.follower) expect(actual).toMatch(re);
        expect(actual).not.toMatch(new RegExp(`^ {2}ignored from n\\d+: ${mode.toUpperCase()} `, 'm'));
        expect(actual).toMatch(/^ {2}= following\/broadcast /m);
      }
    });
  }

  it('a transcript that claims a sync mode it does not show fails', () => {
    const script = ['# a DIFF that is never sent', '> boot n2 voters=1,2,3 acceptedEpoch=1 currentEpoch=1 log=1.1', '> status', ''].join('\n');
    const out = runScript(script);
    expect(out).not.toMatch(SYNC_MODES.diff!.follower[0]!);
    expect(claims('follower-trunc-snap')).toEqual([
      { side: 'follower', mode: 'trunc' },
      { side: 'follower', mode: 'snap' },
    ]);
  });

  it('rejects a script with an unknown command, naming the line', () => {
    expect(() => runScript('> boot n1 voters=1,2,3\n> frobnicate\n')).toThrow(/line 2 \(> frobnicate\): unknown command frobnicate/);
  });
});
