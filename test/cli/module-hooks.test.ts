import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registerModuleHooks } from '../../src/cli/module-hooks.ts';

describe('module hooks of the ferry process', () => {
  it('resolve drizzle-orm to its CommonJS build and leave other packages alone', async () => {
    const zod = import.meta.resolve('zod');
    const pg = import.meta.resolve('pg');
    registerModuleHooks();
    assert.match(import.meta.resolve('drizzle-orm'), /\/drizzle-orm\/index\.cjs$/);
    assert.match(import.meta.resolve('drizzle-orm/pg-core'), /\/drizzle-orm\/pg-core\/index\.cjs$/);
    assert.match(
      import.meta.resolve('drizzle-orm/node-postgres'),
      /\/drizzle-orm\/node-postgres\/index\.cjs$/,
    );
    assert.equal(import.meta.resolve('zod'), zod);
    assert.equal(import.meta.resolve('pg'), pg);
    // The CommonJS build's exports are named exports of the import.
    const { eq, sql } = await import('drizzle-orm');
    assert.equal(typeof eq, 'function');
    assert.equal(typeof sql, 'function');
  });
});
