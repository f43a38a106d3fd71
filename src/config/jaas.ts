/**
 * A JAAS login configuration file, as ZooKeeper reads it through `java.security.auth.login.config`:
 *
 *   Server {
 *     org.apache.zookeeper.server.auth.DigestLoginModule required
 *     user_super="adminsecret" user_bob="bobsecret";
 *   };
 *
 * Sections of login modules, each with a flag and key=value options; `//` and `/* *\/` comments
 * outside quoted strings; values quoted with " or '.
 * Only ZooKeeper's DigestLoginModule (SASL DIGEST-MD5) is supported: Kerberos (Krb5LoginModule) and
 * other modules are refused by name. Pure: the file's text in, sections or a JaasError out.
 */

export interface JaasEntry {
  module: string;
  flag: string;
  options: Record<string, string>;
}

export class JaasError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JaasError';
  }
}

export const DIGEST_LOGIN_MODULE = 'org.apache.zookeeper.server.auth.DigestLoginModule';

const SINGLE = new Set(['{', '}', ';', '=']);
const BLANK = /\s/;

/**
 * Splits the file into words, `{ } ; =` and quoted strings (kept with a leading `"` so a quoted
 * "{" is not a brace). Comments are skipped only outside strings, as Java's JAAS parser
 * (a StreamTokenizer) does: a password such as "http://x" or "a/*b" stays whole.
 */
function tokenize(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  const at = (s: string) => text.startsWith(s, i);
  while (i < text.length) {
    const c = text[i]!;
    if (BLANK.test(c)) i++;
    else if (at('//')) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
    } else if (at('/*')) {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) throw new JaasError('unterminated /* comment');
      i = close + 2;
    } else if (c === '"' || c === "'") {
      let value = '';
      for (i++; ; i++) {
        const ch = text[i];
        if (ch === undefined || ch === '\n') throw new JaasError(`unterminated string ${c}${value.slice(0, 20)}`);
        if (ch === c) break;
        value += ch === '\\' && i + 1 < text.length ? text[++i] : ch;
      }
      i++;
      out.push(`"${value}`);
    } else if (SINGLE.has(c)) {
      out.push(c);
      i++;
    } else {
      const start = i;
      while (i < text.length && !BLANK.test(text[i]!) && !SINGLE.has(text[i]!) && text[i] !== '"' && text[i] !== "'" && !at('//') && !at('/*')) i++;
      out.push(text.slice(start, i));
    }
  }
  return out;
}

/** Section name -> its login module entries. */
export function parseJaas(text: string): Map<string, JaasEntry[]> {
  const t = tokenize(text);
  let i = 0;
  const expect = (what: string): void => {
    if (t[i] !== what) throw new JaasError(`expected '${what}' but found '${t[i] ?? 'end of file'}'`);
    i++;
  };
  const word = (what: string): string => {
    const w = t[i++];
    if (w === undefined || '{};='.includes(w)) throw new JaasError(`expected ${what} but found '${w ?? 'end of file'}'`);
    return w.startsWith('"') ? w.slice(1) : w;
  };
  const sections = new Map<string, JaasEntry[]>();
  while (i < t.length) {
    const name = word('a section name');
    expect('{');
    const entries: JaasEntry[] = [];
    while (t[i] !== '}') {
      const module = word('a login module class');
      const flag = word('a control flag').toLowerCase();
      if (!['required', 'requisite', 'sufficient', 'optional'].includes(flag)) throw new JaasError(`${name}: '${flag}' is not a control flag (required, requisite, sufficient, optional)`);
      const options: Record<string, string> = {};
      while (t[i] !== ';') {
        const key = word('an option name');
        expect('=');
        options[key] = word(`a value for ${key}`);
      }
      expect(';');
      entries.push({ module, flag, options });
    }
    expect('}');
    expect(';');
    sections.set(name, entries);
  }
  return sections;
}

/**
 * The DigestLoginModule entries of one section, refusing what zabkeeper cannot honour. `kind`
 * says which options matter: a server section's `user_<name>="password"`, a client (learner)
 * section's `username`/`password`.
 */
export function digestSection(sections: Map<string, JaasEntry[]>, name: string): JaasEntry {
  const entries = sections.get(name);
  if (!entries) throw new JaasError(`no JAAS section named '${name}' (sections: ${[...sections.keys()].join(', ') || 'none'})`);
  for (const e of entries) {
    if (/Krb5LoginModule/.test(e.module)) throw new JaasError(`${name}: ${e.module} is Kerberos, which zabkeeper does not support (use ${DIGEST_LOGIN_MODULE})`);
    if (e.module !== DIGEST_LOGIN_MODULE) throw new JaasError(`${name}: login module ${e.module} is not supported (only ${DIGEST_LOGIN_MODULE})`);
  }
  if (entries.length !== 1) throw new JaasError(`${name}: expected one ${DIGEST_LOGIN_MODULE} entry, found ${entries.length}`);
  return entries[0]!;
}

/** `user_<name>="<password>"` options of a server section. */
export function usersOf(entry: JaasEntry): Map<string, string> {
  return new Map(Object.entries(entry.options).filter(([k]) => k.startsWith('user_')).map(([k, v]) => [k.slice('user_'.length), v]));
}
