import pino from 'pino';

/**
 * JSON logs via pino, to stderr by default so stdout stays free for command output. The level comes
 * from opts, else ZABKEEPER_LOG_LEVEL, else 'info'. `destination` is a file path or an fd.
 */
export function createLogger(opts: { level?: string; name?: string; destination?: string | number } = {}): pino.Logger {
  const level = opts.level ?? process.env.ZABKEEPER_LOG_LEVEL ?? 'info';
  const dest = pino.destination({ dest: opts.destination ?? 2, sync: true });
  return pino(
    {
      level,
      name: opts.name,
      base: undefined,
      // bigint is everywhere here (zxids, session ids): print it as hex instead of failing.
      formatters: { log: (obj) => hexBigints(obj) },
    },
    dest,
  );
}

function hexBigints(obj: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'bigint') {
      out ??= { ...obj };
      out[k] = '0x' + BigInt.asUintN(64, v).toString(16);
    }
  }
  return out ?? obj;
}

/** A logger that drops everything (tests). */
export function silentLogger(): pino.Logger {
  return pino({ level: 'silent' });
}
