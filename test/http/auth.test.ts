import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyFromAuthorization } from '../../src/http/auth.ts';

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('keyFromAuthorization', () => {
  it('reads Bearer keys, whatever the case of the scheme', () => {
    assert.equal(keyFromAuthorization('Bearer fy_abc'), 'fy_abc');
    assert.equal(keyFromAuthorization('bearer   fy_abc'), 'fy_abc');
  });

  it('reads an organization key from Basic credentials as user name or password', () => {
    assert.equal(keyFromAuthorization(basic('fy_abc:')), 'fy_abc');
    assert.equal(keyFromAuthorization(basic(':fy_abc')), 'fy_abc');
    assert.equal(keyFromAuthorization(basic('fy_abc')), 'fy_abc');
  });

  it('finds nothing in absent, empty or other schemes', () => {
    for (const header of [undefined, '', 'Bearer', 'Token fy_abc', basic(':')]) {
      assert.equal(keyFromAuthorization(header), undefined, String(header));
    }
  });
});
