/**
 * A JAAS login configuration file, as ZooKeeper reads it through `java.security.auth.login.config`:
 *
 *   Server {
 *     org.apache.zookeeper.server.auth.DigestLoginModule required
 *     user_super="adminsecret" user_bob="bobsecret";
 *   };
 *
 * Sections of login modules, each with a flag and key=value options; `//` and `/* *\/` comments.
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

function tokenize(text: string): string[] {
  const out: string[] = [];
  const src = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
  const re = /\s*("((?:[^"\\]|\\.)*)"|[{};=]|[^\s{};="]+)/y;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(src))) {
    out.push(m[2] !== undefined ? `"${m[2].replace(/\\(.)/g, '$1')}` : m[1]!);
    end = re.lastIndex;
  }
  // A failed sticky match resets lastIndex, so where tokens stopped is tracked in `end`.
  if (src.slice(end).trim() !== '') throw new JaasError(`cannot parse near '${src.slice(end, end + 20).trim()}'`);
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
