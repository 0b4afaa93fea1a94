import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { httpConnector } from '../../src/connectors/http/index.ts';
import { FerryError } from '../../src/domain/errors.ts';

describe('http connector configuration', () => {
  const check = (configuration: Record<string, unknown>) =>
    httpConnector.configSchema.safeParse({ url: 'http://127.0.0.1:9/ingest', ...configuration });

  it('takes headers fetch can send', async () => {
    const parsed = check({
      headers: { 'X-Team': 'data', 'x-note': 'café, ok' },
      auth_header: 'Bearer s3cret',
    });
    assert.ok(parsed.success, JSON.stringify(parsed.error));
    await httpConnector.open({ url: 'http://127.0.0.1:9/ingest', headers: { 'X-Team': 'data' } } as never);
  });

  it('refuses, when the connection is saved, headers that every request of a run would fail on', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ headers: { 'bad header': 'x' } }, 'configuration.headers.bad header'],
      [{ headers: { 'X-A': 'one\ntwo' } }, 'configuration.headers.X-A'],
      [{ headers: { 'X-A': 'non latin 中' } }, 'configuration.headers.X-A'],
      [{ auth_header: 'Bearer a\r\nX-Injected: 1' }, 'configuration.auth_header'],
    ];
    for (const [configuration, field] of cases) {
      assert.equal(check(configuration).success, false, field);
      await assert.rejects(
        httpConnector.open({ url: 'http://127.0.0.1:9/ingest', ...configuration } as never),
        (error) => error instanceof FerryError && error.code === 'validation_failed' && error.field === field,
        field,
      );
    }
  });
});
