import { readFileSync } from 'node:fs';
import path from 'node:path';

// Reads the Naftiko capabilities in ../shared/seeds. Their YAML arrives with its indentation lost
// (000 keeps line breaks, 002 is one line), so they are read as token streams: after `exposes:`, the
// REST adapter lists `- path:` and `- method:`, the MCP adapter `- name:` with `hints:` and `with:`.

export const seedsDir = path.resolve(import.meta.dirname, '../../../shared/seeds');
export const capabilitySeeds = ['000_2cf9ac51d9da3f89.txt', '002_cd8e2fd9d0052262.txt'];

export interface SeedResource {
  method: string;
  path: string;
}

export interface SeedTool {
  name: string;
  readOnly: boolean;
  destructive: boolean;
  idempotent: boolean;
  /** Tool inputs the seed maps from `tools.*`, headers excluded (they come from the MCP session). */
  params: string[];
}

export interface Capability {
  file: string;
  resources: SeedResource[];
  tools: SeedTool[];
}

const headers = new Set(['Authorization', 'X-Polytomic-Version']);

export function readCapability(file: string): Capability {
  const text = readFileSync(path.join(seedsDir, file), 'utf8').replace(/\s+/g, ' ');
  const exposes = text.slice(text.indexOf(' exposes: '));
  const mcpAt = exposes.indexOf('- type: mcp');
  if (mcpAt < 0) throw new Error(`${file}: no MCP adapter`);

  const resources: SeedResource[] = [];
  let current: string | undefined;
  for (const match of exposes.slice(0, mcpAt).matchAll(/- path: (\S+)|- method: (\w+)/g)) {
    if (match[1]) current = match[1];
    else resources.push({ method: match[2]!, path: current! });
  }

  const tools = exposes
    .slice(mcpAt)
    .split(' - name: ')
    .slice(1)
    .map((chunk) => {
      const hints = /hints: readOnly: (\w+) destructive: (\w+) idempotent: (\w+)/.exec(chunk);
      if (!hints) throw new Error(`${file}: no hints in ${chunk.slice(0, 80)}`);
      return {
        name: chunk.split(' ')[0]!,
        readOnly: hints[1] === 'true',
        destructive: hints[2] === 'true',
        idempotent: hints[3] === 'true',
        params: [...chunk.matchAll(/(\S+): tools\.\S+/g)].map((m) => m[1]!).filter((p) => !headers.has(p)),
      };
    });
  return { file, resources, tools };
}
