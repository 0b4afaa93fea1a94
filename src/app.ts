import type { Config } from './config.ts';
import { createHttpApp, createMcpPortApp, type HttpServer, listen } from './http/server.ts';
import { createLogger } from './logger.ts';
import { JobQueue } from './runner/queue.ts';
import { type SchedulingSource, startScheduler } from './runner/scheduler.ts';
import { startWorkers, type Workers } from './runner/workers.ts';
import { checkSecretKey, ensureAdminKey } from './services/bootstrap.ts';
import { bulkScheduling } from './services/bulk-scheduling.ts';
import type { Core } from './services/context.ts';
import { modelScheduling } from './services/model-scheduling.ts';
import { openStore } from './store/database.ts';
import { migrate } from './store/migrate.ts';
import { createSecretBox, deriveSigningKey, resolveSecretKey } from './store/secret-box.ts';

export interface Ferry {
  core: Core;
  http: HttpServer;
  /** The standalone MCP server (FERRY_MCP_PORT). */
  mcp: HttpServer;
  /** The admin key created by this start, to be shown once; undefined when the store already had keys. */
  firstAdminKey: string | undefined;
  stop(): Promise<void>;
}

/** Opens the store, migrates it and wires the core every face uses. */
export async function openCore(config: Config): Promise<Core> {
  const log = createLogger(config.logLevel);
  const store = await openStore(config);
  try {
    const applied = await migrate(store);
    if (applied.length > 0) log.info({ migrations: applied }, 'store migrated');
    const secretKey = resolveSecretKey(config.secretKey, config.dataDir);
    if (secretKey.generated) {
      log.warn(
        { dataDir: config.dataDir },
        config.databaseUrl
          ? 'generated a secret key in the data dir; set FERRY_SECRET_KEY to the same value on every process'
          : 'generated a secret key in the data dir',
      );
    }
    const secrets = createSecretBox(secretKey.key);
    await checkSecretKey(store, secrets);
    const signingKey = deriveSigningKey(secretKey.key);
    return { config, store, secrets, signingKey, queue: new JobQueue(store, log), log };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Sync kinds whose schedules fire: every process runs the scheduler; the store lets one fire each tick. */
const schedulingSources: SchedulingSource[] = [bulkScheduling, modelScheduling];

export interface StartOptions {
  /** Run jobs in this process (`ferry serve` without `--no-worker`). */
  worker?: boolean;
  /** Runs this process executes at the same time. */
  concurrency?: number;
  /** How long a graceful stop lets running tables commit before handing their runs back. */
  graceMs?: number;
}

/** `ferry serve`: API and (unless `worker: false`) an in-process worker over one store. */
export async function startFerry(config: Config, options: StartOptions = {}): Promise<Ferry> {
  const core = await openCore(config);
  let workers: Workers | undefined;
  let stopScheduler: (() => Promise<void>) | undefined;
  let http: HttpServer | undefined;
  let mcp: HttpServer;
  let bootstrap: Awaited<ReturnType<typeof ensureAdminKey>>;
  try {
    bootstrap = await ensureAdminKey(core.store, config.apiKey);
    await core.queue.start();
    if (options.worker !== false) workers = await startWorkers(core, options);
    stopScheduler = startScheduler(core, schedulingSources);
    const app = createHttpApp(core);
    http = await listen(app, config.port);
    mcp = await listen(createMcpPortApp(app), config.mcpPort);
  } catch (error) {
    await http?.close();
    await stopScheduler?.();
    await workers?.stop(0);
    await core.queue.stop().catch(() => {});
    await core.store.close().catch(() => {});
    throw error;
  }
  core.log.info(
    { port: http.port, mcpPort: mcp.port, store: core.store.kind, worker: workers !== undefined },
    'listening',
  );
  let stopping: Promise<void> | undefined;
  return {
    core,
    http,
    mcp,
    firstAdminKey: bootstrap.created ? bootstrap.key : undefined,
    stop: () => {
      stopping ??= (async () => {
        await Promise.all([http.close(), mcp.close()]);
        await stopScheduler();
        await workers?.stop(options.graceMs);
        await core.queue.stop();
        await core.store.close();
      })();
      return stopping;
    },
  };
}

export interface FerryWorker {
  core: Core;
  stop(): Promise<void>;
}

/** `ferry worker`: runs jobs from the shared queue, without an API. */
export async function startWorker(config: Config, options: StartOptions = {}): Promise<FerryWorker> {
  const core = await openCore(config);
  let workers: Workers | undefined;
  let stopScheduler: (() => Promise<void>) | undefined;
  try {
    await core.queue.start();
    workers = await startWorkers(core, options);
    stopScheduler = startScheduler(core, schedulingSources);
  } catch (error) {
    await stopScheduler?.();
    await workers?.stop(0);
    await core.queue.stop().catch(() => {});
    await core.store.close().catch(() => {});
    throw error;
  }
  core.log.info(
    { store: core.store.kind, concurrency: options.concurrency, pid: process.pid },
    'worker started',
  );
  let stopping: Promise<void> | undefined;
  return {
    core,
    stop: () => {
      stopping ??= (async () => {
        await stopScheduler();
        await workers.stop(options.graceMs);
        await core.queue.stop();
        await core.store.close();
      })();
      return stopping;
    },
  };
}
