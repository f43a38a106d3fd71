/**
 * Four-letter word codes: the first 4 bytes of a fresh connection read as a big-endian int
 * (NIOServerCnxn.checkFourLetterWord). Only recognised codes are four-letter words; anything else
 * is a frame length.
 */

export const FOUR_LETTER_WORDS = [
  'conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'gtmk', 'hash', 'isro', 'mntr',
  'ruok', 'srst', 'srvr', 'stat', 'stmk', 'wchc', 'wchp', 'wchs',
] as const;
export type FourLetterWord = (typeof FOUR_LETTER_WORDS)[number];

/**
 * Words that list other clients' sessions, addresses or watched paths (cons, dump, wchc, wchp):
 * anyone who can reach the port would learn the names of protected znodes and who uses them. They
 * are for administrators, on a network only administrators reach; never on by default.
 */
export const ADMIN_ONLY_FOUR_LETTER_WORDS: readonly FourLetterWord[] = ['cons', 'dump', 'wchc', 'wchp'];

/**
 * Four-letter words allowed when nothing says otherwise, with or without a zoo.cfg. ZooKeeper's own
 * default is `srvr` only; health checks (kazoo's ruok, monitoring scripts) expect more, so ours also
 * allows the status words that reveal no znode paths or other clients.
 */
export const DEFAULT_FOUR_LETTER_WHITELIST: readonly FourLetterWord[] = ['ruok', 'srvr', 'stat', 'mntr', 'isro', 'conf', 'envi'];

/** The telnet IAC close sequence, registered by ZooKeeper as a known code with no command. */
export const TELNET_CLOSE = 'telnet close';
const TELNET_CLOSE_CODE = 0xfff4fffd | 0;

function codeOf(word: string): number {
  return Buffer.from(word, 'ascii').readInt32BE(0);
}

const BY_CODE: ReadonlyMap<number, string> = new Map<number, string>([
  ...FOUR_LETTER_WORDS.map((w) => [codeOf(w), w] as [number, string]),
  [TELNET_CLOSE_CODE, TELNET_CLOSE],
]);

/** first4 may be signed or unsigned (both are accepted). Returns the command name or undefined. */
export function isFourLetterWord(first4: number): string | undefined {
  return BY_CODE.get(first4 | 0);
}

/**
 * The 4lw.commands.whitelist entries as ZooKeeper reads them: comma-separated entries (already
 * split or not), trimmed; '*' enables every command. Unknown names are kept out.
 */
export function parseWhitelist(list: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const entry of list.flatMap((s) => s.split(','))) {
    const name = entry.trim();
    if (name === '*') for (const w of FOUR_LETTER_WORDS) out.add(w);
    else if ((FOUR_LETTER_WORDS as readonly string[]).includes(name)) out.add(name);
  }
  return out;
}

/** ZooKeeper 3.8's refusal text. */
export function notInWhitelistMessage(cmd: string): string {
  return `${cmd} is not executed because it is not in the whitelist.\n`;
}

export type FourLetterDecision =
  | { kind: 'run'; cmd: FourLetterWord }
  | { kind: 'refuse'; cmd: string; text: string }
  /** Not a four-letter word: treat the bytes as a frame length. */
  | { kind: 'notFourLetter' };

/**
 * What to do with the first 4 bytes of a connection. With '*' ZooKeeper's whitelist holds every
 * command but not "telnet close", which therefore falls through to length handling.
 */
export function decideFourLetter(first4: number, whitelist: ReadonlySet<string> | '*'): FourLetterDecision {
  const cmd = isFourLetterWord(first4);
  if (cmd === undefined) return { kind: 'notFourLetter' };
  const allowed = whitelist === '*' ? cmd !== TELNET_CLOSE : whitelist.has(cmd);
  if (allowed) return { kind: 'run', cmd: cmd as FourLetterWord };
  if (whitelist === '*') return { kind: 'notFourLetter' };
  return { kind: 'refuse', cmd, text: notInWhitelistMessage(cmd) };
}
