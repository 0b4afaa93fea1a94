/**
 * Ferry in scale-out for tests: API replicas (`serve --no-worker`) and `worker` processes spawned as
 * real children of `bin/ferry.js`, sharing one fresh PostgreSQL store, one data dir and one key.
 * Every spawned process is tracked so `stopAll()` can kill them all, even after a failed test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createPgDatabase, type PgTestConfig, type TestDatabase, tempDir } from './databases.ts';

const binary = path.resolve(import.meta.dirname, '../../bin/ferry.js');

export interface LogLine {
  msg?: string;
  [key: string]: unknown;
}

export interface FerryChild {
  kind: 'replica' | 'worker';
  child: ChildProcess;
  pid: number;
  /** The HTTP base URL of a replica. */
  url: string;
  /** Resolves with the first log line (past or future) that matches. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  logs(): LogLine[];
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `killAfterMs`; resolves with the exit code. */
  stop(killAfterMs?: number): Promise<number | null>;
}

export interface Cluster {
  store: TestDatabase<PgTestConfig>;
  adminKey: string;
  replicas: FerryChild[];
  workers: FerryChild[];
  spawnReplica(): Promise<FerryChild>;
  spawnWorker(args?: string[]): Promise<FerryChild>;
  stopAll(): Promise<void>;
}

export async function startCluster(
  options: { replicas?: number; workers?: number; env?: Record<string, string> } = {},
): Promise<Cluster> {
  const store = await createPgDatabase();
  const dataDir = tempDir('ferry-cluster-');
  const adminKey = `fy_test_${randomBytes(16).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    // Every replica serves MCP too: each needs its own free port, not the shared default 9090.
    FERRY_MCP_PORT: '0',
    DATABASE_URL: store.url,
    FERRY_DATA_DIR: dataDir.path,
    FERRY_API_KEY: adminKey,
    FERRY_SECRET_KEY: randomBytes(24).toString('hex'),
    FERRY_LOG_LEVEL: 'info',
    FERRY_RATE_LIMIT: '100000',
    ...options.env,
  };
  const children: FerryChild[] = [];
  const spawnOne = async (kind: FerryChild['kind'], args: string[]) => {
    const child = spawnFerry(kind, args, env);
    children.push(child);
    await child.waitForLog(
      (line) => line.msg === (kind === 'replica' ? 'listening' : 'worker started'),
      60_000,
    );
    return child;
  };
  const cluster: Cluster = {
    store,
    adminKey,
    replicas: [],
    workers: [],
    async spawnReplica() {
      const replica = await spawnOne('replica', ['serve', '--no-worker']);
      cluster.replicas.push(replica);
      return replica;
    },
    async spawnWorker(args = []) {
      const worker = await spawnOne('worker', ['worker', ...args]);
      cluster.workers.push(worker);
      return worker;
    },
    async stopAll() {
      await Promise.all(children.map((child) => child.stop(5_000)));
      await store.drop();
      dataDir.cleanup();
    },
  };
  try {
    // The first process migrates the fresh store; the rest start together on the migrated one.
    await cluster.spawnReplica();
    await Promise.all([
      ...Array.from({ length: (options.replicas ?? 1) - 1 }, () => cluster.spawnReplica()),
      ...Array.from({ length: options.workers ?? 0 }, () => cluster.spawnWorker()),
    ]);
  } catch (error) {
    await cluster.stopAll();
    throw error;
  }
  return cluster;
}

function spawnFerry(kind: FerryChild['kind'], args: string[], env: NodeJS.ProcessEnv): FerryChild {
  const child = spawn(process.execPath, [binary, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: LogLine[] = [];
  let url = '';
  const waiters = new Set<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  createInterface({ input: child.stderr! }).on('line', (text) => {
    // Request logs are many and say nothing the tests look for.
    if (text.includes('"msg":"request"')) return;
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { msg: text };
    }
    if (line.msg === 'listening') url = `http://127.0.0.1:${line.port}`;
    lines.push(line);
    for (const waiter of waiters) {
      if (waiter.match(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const self: FerryChild = {
    kind,
    child,
    pid: child.pid!,
    get url() {
      return url;
    },
    logs: () => lines,
    exited,
    waitForLog(match, timeoutMs = 120_000) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          resolve: (line: LogLine) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching log line from ${kind} ${child.pid}:\n${tail(lines)}`));
        }, timeoutMs);
        waiters.add(waiter);
        void exited.then((code) => {
          if (!waiters.has(waiter)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          reject(new Error(`${kind} ${child.pid} exited with ${code}:\n${tail(lines)}`));
        });
      });
    },
    async stop(killAfterMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return self;
}

const tail = (lines: LogLine[]) =>
  lines
    .slice(-20)
    .map((line) => JSON.stringify(line))
    .join('\n');
