/**
 * java.util.Properties text syntax, which is what ZooKeeper reads zoo.cfg with:
 *  - a line whose first non-blank char is '#' or '!' is a comment; blank lines are skipped
 *  - a line ending in an odd number of backslashes continues on the next line (leading blanks of
 *    the continuation are dropped)
 *  - the key ends at the first unescaped '=', ':' or blank; blanks, then one '=' or ':', then
 *    blanks separate it from the value
 *  - escapes: \t \n \r \f \uXXXX; any other \c stands for c
 * Later keys overwrite earlier ones (Properties is a map); we keep every entry so the caller can
 * report duplicates with line numbers.
 */

export interface PropertyEntry {
  key: string;
  value: string;
  /** 1-based line where the logical line starts. */
  line: number;
}

const BLANK = new Set([' ', '\t', '\f']);

function endsWithContinuation(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

function skipBlanks(s: string, i: number): number {
  while (i < s.length && BLANK.has(s[i]!)) i++;
  return i;
}

const ESCAPES: Readonly<Record<string, string>> = { t: '\t', n: '\n', r: '\r', f: '\f' };

function unescape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const e = s[++i]!;
    if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 5))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 5), 16));
      i += 4;
    } else {
      out += ESCAPES[e] ?? e;
    }
  }
  return out;
}

function splitKeyValue(logical: string): { key: string; value: string } {
  let i = 0;
  let keyEnd = logical.length;
  for (; i < logical.length; i++) {
    const c = logical[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '=' || c === ':' || BLANK.has(c)) {
      keyEnd = i;
      break;
    }
  }
  let v = skipBlanks(logical, keyEnd);
  if (v < logical.length && (logical[v] === '=' || logical[v] === ':')) v = skipBlanks(logical, v + 1);
  return { key: unescape(logical.slice(0, keyEnd)), value: unescape(logical.slice(v)) };
}

export function parseProperties(text: string): PropertyEntry[] {
  const lines = text.split(/\r\n|\r|\n/);
  const out: PropertyEntry[] = [];
  for (let n = 0; n < lines.length; n++) {
    const start = n + 1;
    const first = lines[n]!.slice(skipBlanks(lines[n]!, 0));
    if (first === '' || first[0] === '#' || first[0] === '!') continue;
    let logical = first;
    while (endsWithContinuation(logical) && n + 1 < lines.length) {
      logical = logical.slice(0, -1);
      n++;
      logical += lines[n]!.slice(skipBlanks(lines[n]!, 0));
    }
    if (endsWithContinuation(logical)) logical = logical.slice(0, -1);
    out.push({ ...splitKeyValue(logical), line: start });
  }
  return out;
}
