/**
 * The typed configuration of the config hot-reload demo, and its validating parser (pure).
 * A value that fails validation throws: ConfigWatcher then reports it as 'invalid' and keeps the
 * last good value, which is the behaviour the demo shows.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface AppConfig {
  /** Monotonic version the writer bumps on every change (the demo's way to tell values apart). */
  version: number;
  logLevel: LogLevel;
  rateLimitPerSec: number;
  features: Record<string, boolean>;
}

export class ConfigValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigValidationError';
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Field checks, one per field: each returns an error message or undefined. */
const CHECKS: Readonly<Record<keyof AppConfig, (v: unknown) => string | undefined>> = {
  version: (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : 'version must be a non-negative integer'),
  logLevel: (v) => (LOG_LEVELS.includes(v as LogLevel) ? undefined : `logLevel must be one of ${LOG_LEVELS.join(', ')}`),
  rateLimitPerSec: (v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? undefined : 'rateLimitPerSec must be a positive number'),
  features: (v) => (isRecord(v) && Object.values(v).every((x) => typeof x === 'boolean') ? undefined : 'features must map names to booleans'),
};

export function parseAppConfig(data: Buffer | null): AppConfig {
  if (data === null || data.length === 0) throw new ConfigValidationError('empty config');
  let v: unknown;
  try {
    v = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw new ConfigValidationError(`not JSON: ${(err as Error).message}`);
  }
  if (!isRecord(v)) throw new ConfigValidationError('config must be a JSON object');
  const problems = (Object.keys(CHECKS) as (keyof AppConfig)[]).map((k) => CHECKS[k](v[k])).filter((m): m is string => m !== undefined);
  if (problems.length > 0) throw new ConfigValidationError(problems.join('; '));
  return { version: v.version as number, logLevel: v.logLevel as LogLevel, rateLimitPerSec: v.rateLimitPerSec as number, features: { ...(v.features as Record<string, boolean>) } };
}

export function encodeAppConfig(c: AppConfig): string {
  return JSON.stringify(c);
}

/** The demo's scripted sequence of valid configs, version n. */
export function demoConfig(version: number): AppConfig {
  return {
    version,
    logLevel: LOG_LEVELS[version % LOG_LEVELS.length]!,
    rateLimitPerSec: 100 * version,
    features: { newCheckout: version % 2 === 0, darkMode: version >= 3 },
  };
}
