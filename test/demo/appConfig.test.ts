/** The config demo's typed config parser (scripts/demo/lib/appConfig.ts). */
import { ConfigValidationError, demoConfig, encodeAppConfig, parseAppConfig } from '../../scripts/demo/lib/appConfig';

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('parseAppConfig', () => {
  test('round-trips every demo version', () => {
    for (let v = 1; v < 12; v++) expect(parseAppConfig(buf(encodeAppConfig(demoConfig(v))))).toEqual(demoConfig(v));
  });

  test.each([
    ['empty', ''],
    ['not JSON', '{ nope'],
    ['an array', '[1]'],
    ['a bad log level', '{"version":1,"logLevel":"loud","rateLimitPerSec":1,"features":{}}'],
    ['a negative rate', '{"version":1,"logLevel":"info","rateLimitPerSec":-5,"features":{}}'],
    ['a non-boolean feature', '{"version":1,"logLevel":"info","rateLimitPerSec":5,"features":{"x":"yes"}}'],
    ['a fractional version', '{"version":1.5,"logLevel":"info","rateLimitPerSec":5,"features":{}}'],
  ])('rejects %s', (_name, text) => {
    expect(() => parseAppConfig(text === '' ? null : buf(text))).toThrow(ConfigValidationError);
  });

  test('names every problem at once', () => {
    expect(() => parseAppConfig(buf('{"version":-1,"logLevel":"loud","rateLimitPerSec":0}'))).toThrow(/version.*logLevel.*rateLimitPerSec.*features/);
  });

  test('extra fields are dropped from the typed value', () => {
    expect(parseAppConfig(buf('{"version":1,"logLevel":"info","rateLimitPerSec":5,"features":{},"extra":true}'))).toEqual({ version: 1, logLevel: 'info', rateLimitPerSec: 5, features: {} });
  });
});
