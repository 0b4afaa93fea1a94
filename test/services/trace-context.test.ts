import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newTraceId, traceIdFromTraceparent } from '../../src/services/trace-context.ts';

describe('trace context', () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';

  it('takes the trace id of a valid traceparent', () => {
    assert.equal(traceIdFromTraceparent(`00-${traceId}-00f067aa0ba902b7-01`), traceId);
    assert.equal(traceIdFromTraceparent(` 00-${traceId}-00f067aa0ba902b7-00 `), traceId);
    assert.equal(traceIdFromTraceparent(`01-${traceId}-00f067aa0ba902b7-01-future`), traceId);
  });

  it('ignores absent and invalid headers, as the W3C spec asks', () => {
    for (const header of [
      undefined,
      '',
      'nonsense',
      `ff-${traceId}-00f067aa0ba902b7-01`,
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `00-${traceId}-${'0'.repeat(16)}-01`,
      `00-${traceId.toUpperCase()}-00f067aa0ba902b7-01`,
      `00-${traceId}-00f067aa0ba902b7-01-extra`,
    ]) {
      assert.equal(traceIdFromTraceparent(header), undefined, String(header));
    }
  });

  it('generates 32 hex digit trace ids', () => {
    assert.match(newTraceId(), /^[0-9a-f]{32}$/);
    assert.notEqual(newTraceId(), newTraceId());
  });
});
