import { readFileSync } from 'node:fs';

/** Ferry's version, as MCP clients see it in the server info. */
export const ferryVersion: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;
