import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createSecretBox, resolveSecretKey } from '../../src/store/secret-box.ts';

describe('secret box', () => {
  it('round-trips secrets and never stores them in clear', () => {
    const box = createSecretBox('a-long-enough-secret-key');
    const sealed = box.encrypt({ password: 'hunter2-🔑' });
    assert.ok(!sealed.includes('hunter2'));
    assert.notEqual(sealed, box.encrypt({ password: 'hunter2-🔑' }), 'a fresh IV each time');
    assert.deepEqual(box.decrypt(sealed), { password: 'hunter2-🔑' });
  });

  it('refuses a tampered value and another key', () => {
    const box = createSecretBox('a-long-enough-secret-key');
    const sealed = box.encrypt({ password: 'x' });
    const parts = sealed.split(':');
    parts[3] = Buffer.from('tampered').toString('base64');
    assert.throws(() => box.decrypt(parts.join(':')));
    assert.throws(() => createSecretBox('another-long-secret-key').decrypt(sealed));
    assert.notEqual(box.fingerprint, createSecretBox('another-long-secret-key').fingerprint);
  });

  it('generates the key file with mode 0600 once and reuses it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ferry-key-'));
    try {
      const first = resolveSecretKey(undefined, dir);
      assert.equal(first.generated, true);
      assert.equal(statSync(path.join(dir, 'secret.key')).mode & 0o777, 0o600);
      const second = resolveSecretKey(undefined, dir);
      assert.deepEqual(second, { key: first.key, generated: false });
      assert.deepEqual(resolveSecretKey('configured-secret-key', dir), {
        key: 'configured-secret-key',
        generated: false,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
