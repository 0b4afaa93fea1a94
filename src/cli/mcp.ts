import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { Command, Option } from 'commander';
import { Hono } from 'hono';
import { openCore } from '../app.ts';
import type { Config } from '../config.ts';
import { FerryError } from '../domain/errors.ts';
import { type ApiFetch, localApi, upstreamApi } from '../http/api-client.ts';
import { naftikoRoutes } from '../http/dialects/naftiko/index.ts';
import { createHttpApp, listen } from '../http/server.ts';
import { mcpHttpHandler } from '../mcp/http.ts';
import { createMcpServer } from '../mcp/server.ts';
import { startWorkers } from '../runner/workers.ts';
import { authenticate } from '../services/api-keys.ts';
import { ensureAdminKey } from '../services/bootstrap.ts';

interface McpOptions {
  upstream?: string;
  http?: string;
  apiVersion?: string;
  worker: boolean;
}

const keyHelp = `
The stdio server acts with the key in POLYTOMIC_API_KEY (or FERRY_API_KEY). With --http, each client
sends its own key as Authorization: Bearer <key>, and the upstream checks it.

Examples:
  ferry mcp                                      tools over Ferry's own store (stdio)
  ferry mcp --upstream http://ferry.internal:8080  tools over another Polytomic-compatible API (stdio)
  ferry mcp --upstream https://app.polytomic.com --http 9090
                                                 MCP at /mcp and the Naftiko REST adapter at /v1/api`;

export function mcpCommand(loadConfig: () => Config): Command {
  return new Command('mcp')
    .description('Serve the MCP tools over stdio (for desktop MCP clients), or front an upstream API')
    .addOption(
      new Option('--upstream <url>', 'Polytomic-compatible API to act on, instead of the local store'),
    )
    .addOption(new Option('--http <port>', 'with --upstream: serve Streamable HTTP and /v1/api on this port'))
    .addOption(new Option('--api-version <date>', 'X-Polytomic-Version to send (e.g. 2024-02-08)'))
    .option('--no-worker', 'local store: do not run syncs in this process (`ferry worker`s run them)')
    .addHelpText('after', keyHelp)
    .action(async (options: McpOptions) => {
      const upstream = options.upstream === undefined ? undefined : upstreamUrl(options.upstream);
      if (options.http !== undefined) {
        if (!upstream) {
          throw new FerryError('bad_request', '--http needs --upstream; `ferry serve` serves MCP over HTTP');
        }
        await serveGateway(upstream, port(options.http));
        return;
      }
      const key = process.env.POLYTOMIC_API_KEY || process.env.FERRY_API_KEY;
      if (!key)
        throw new FerryError('unauthorized', 'set POLYTOMIC_API_KEY (or FERRY_API_KEY) to an API key');
      const api = upstream ? upstreamApi(upstream) : await openLocalApi(loadConfig(), key, options.worker);
      const server = createMcpServer({
        api,
        credentials: { authorization: `Bearer ${key}`, version: options.apiVersion },
        baseUrl: upstream,
      });
      await server.connect(new StdioServerTransport());
    });
}

/** Ferry in this process: the store, the API (not listening) and, unless told otherwise, a worker. */
async function openLocalApi(config: Config, key: string, worker: boolean): Promise<ApiFetch> {
  const core = await openCore(config);
  await ensureAdminKey(core.store, config.apiKey);
  await authenticate(core.store.db, key);
  await core.queue.start();
  const workers = worker ? await startWorkers(core) : undefined;
  const shutdown = async () => {
    await workers?.stop();
    await core.queue.stop();
    await core.store.close();
    process.exit(0);
  };
  // The client closing stdin ends the session; so do the usual signals.
  process.stdin.once('end', shutdown);
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  return localApi(createHttpApp(core));
}

/** MCP over Streamable HTTP and the Naftiko adapter, both in front of an upstream API. */
async function serveGateway(upstream: string, listenPort: number): Promise<void> {
  const api = upstreamApi(upstream);
  const app = new Hono();
  const mcp = mcpHttpHandler({ api, baseUrl: upstream });
  app.all('/', mcp);
  app.all('/mcp', mcp);
  naftikoRoutes(app, api);
  app.notFound((c) =>
    c.json({ status: 404, message: `no route for ${c.req.method} ${c.req.path}`, key: 'not_found' }, 404),
  );
  const server = await listen(app, listenPort);
  process.stdout.write(
    `MCP gateway listening on http://localhost:${server.port}/mcp (upstream: ${upstream})\n`,
  );
  const shutdown = () => server.close().then(() => process.exit(0));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

function upstreamUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new FerryError('bad_request', `--upstream must be an http(s) URL, got ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FerryError('bad_request', `--upstream must be an http(s) URL, got ${value}`);
  }
  return url.href.replace(/\/+$/, '');
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw new Error(`invalid port: ${value}`);
  return parsed;
}
