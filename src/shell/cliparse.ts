/**
 * The subset of Apache commons-cli's DefaultParser (1.5) that zkCli's commands use, ported for
 * behaviour, so flags, their errors and their odd corners match zkCli: options may follow
 * arguments, `-sw` is `-s -w`, `-v5` is `-v 5`, `--` ends options, an unknown `-x` is an error,
 * and a value-taking option accepts a negative number as its value.
 *
 * Errors carry commons-cli's exception text (zkCli prints `exception.toString()`).
 */

export interface OptSpec {
  /** Short name; zkCli also uses multi-letter ones such as `-members`. */
  name: string;
  hasArg: boolean;
  description: string;
}

export interface OptGroup {
  names: readonly string[];
  required: boolean;
}

export interface OptionsSpec {
  opts: readonly OptSpec[];
  groups?: readonly OptGroup[];
}

export interface ParsedArgs {
  /** Non-option words, the command name first (zkCli's `cl.getArgs()`). */
  args: string[];
  /** Present options; the value is the first one given (null for flags). */
  opts: Map<string, string | null>;
}

export class CliParseError extends Error {
  constructor(
    readonly exception: string,
    detail: string,
  ) {
    super(`org.apache.commons.cli.${exception}: ${detail}`);
    this.name = 'CliParseError';
  }
}

/** Double.parseDouble-like check, for "is this dash word a negative number". */
const NUMBER = /^[+-]?(NaN|Infinity|((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)[fFdD]?)$/;

export function parseOptions(spec: OptionsSpec, words: readonly string[]): ParsedArgs {
  const byName = new Map(spec.opts.map((o) => [o.name, o]));
  const args: string[] = [];
  const opts = new Map<string, string | null>();
  const selected = new Map<OptGroup, string>();
  let current: OptSpec | undefined;
  let skip = false;

  const hasShort = (n: string) => byName.has(n);
  const isShortOption = (t: string): boolean => {
    if (!t.startsWith('-') || t.length === 1) return false;
    const eq = t.indexOf('=');
    const name = eq === -1 ? t.slice(1) : t.slice(1, eq);
    return hasShort(name) || (name.length > 0 && hasShort(name[0]!));
  };
  const isArgument = (t: string) => !isShortOption(t) || NUMBER.test(t);
  const unknown = (t: string) => {
    if (t.startsWith('-') && t.length > 1) throw new CliParseError('UnrecognizedOptionException', `Unrecognized option: ${t}`);
    args.push(t);
  };
  const addValue = (o: OptSpec, v: string) => {
    if (opts.get(o.name) === null) opts.set(o.name, v);
  };
  const handle = (o: OptSpec) => {
    checkMissingArg();
    const group = spec.groups?.find((g) => g.names.includes(o.name));
    if (group) {
      const prev = selected.get(group);
      if (prev !== undefined && prev !== o.name) {
        throw new CliParseError(
          'AlreadySelectedException',
          `The option '${o.name}' was specified but an option from this group has already been selected: '${prev}'`,
        );
      }
      selected.set(group, o.name);
    }
    if (!opts.has(o.name)) opts.set(o.name, null);
    current = o.hasArg ? o : undefined;
  };
  const checkMissingArg = () => {
    if (current && opts.get(current.name) === null) {
      throw new CliParseError('MissingArgumentException', `Missing argument for option: ${current.name}`);
    }
  };
  const concatenated = (t: string) => {
    for (let i = 1; i < t.length; i++) {
      const o = byName.get(t[i]!);
      if (!o) {
        unknown(t);
        return;
      }
      handle(o);
      if (current && t.length !== i + 1) {
        addValue(current, t.slice(i + 1));
        current = undefined;
        return;
      }
    }
  };
  const shortOrLong = (t: string) => {
    const name = t.replace(/^-{1,2}/, '');
    const eq = name.indexOf('=');
    if (name.length === 1 || eq === -1) {
      const o = byName.get(name);
      if (o) return handle(o);
      if (name.length === 1) return unknown(t);
      return concatenated(t);
    }
    const o = byName.get(name.slice(0, eq));
    if (eq === 1 && o?.hasArg) {
      handle(o);
      addValue(o, name.slice(eq + 1));
      current = undefined;
      return;
    }
    throw new CliParseError('UnrecognizedOptionException', `Unrecognized option: ${t}`);
  };

  for (const t of words) {
    if (skip) {
      args.push(t);
    } else if (current && isArgument(t)) {
      addValue(current, t);
      current = undefined;
    } else if (t === '--') {
      skip = true;
    } else if (current) {
      checkMissingArg();
    } else if (t.startsWith('--')) {
      // zkCli's commands define no long options: every --word is unknown.
      throw new CliParseError('UnrecognizedOptionException', `Unrecognized option: ${t}`);
    } else if (t.startsWith('-') && t !== '-') {
      shortOrLong(t);
    } else {
      unknown(t);
    }
  }
  checkMissingArg();
  for (const g of spec.groups ?? []) {
    if (g.required && !selected.has(g)) {
      const list = g.names.map((n) => `-${n} ${byName.get(n)?.description ?? ''}`.trimEnd()).join(', ');
      throw new CliParseError('MissingOptionException', `Missing required option: [${list}]`);
    }
  }
  return { args, opts };
}

/** commons-cli HelpFormatter output for `ls -?` (the only command with a help flag). */
export function helpText(usage: string, spec: OptionsSpec): string[] {
  const sorted = [...spec.opts].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
  const width = Math.max(...sorted.map((o) => o.name.length + 1 + (o.hasArg ? 6 : 0)));
  return [
    `usage: ${usage}`,
    ...sorted.map((o) => ` ${`-${o.name}${o.hasArg ? ' <arg>' : ''}`.padEnd(width)}   ${o.description}`),
  ];
}
