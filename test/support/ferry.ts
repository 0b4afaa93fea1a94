import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const binary = path.resolve(import.meta.dirname, '../../bin/ferry.js');

export interface FerryProcess {
  url: string;
  port: number;
  /** The standalone MCP endpoint (FERRY_MCP_PORT, a free port in tests). */
  mcpUrl: string;
  /** The admin key: FERRY_API_KEY as given, or the one the first start printed. */
  adminKey: string;
  dataDir: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** SIGTERM, then waits for the exit; returns the exit code. */
  stop(): Promise<number | null>;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  /** Reuse a data dir (a restart); a fresh temporary one by default, removed on stop. */
  dataDir?: string;
  args?: string[];
}

/** Starts `ferry serve` as a real process on a free port and waits until it listens. */
export async function startFerry(options: StartOptions = {}): Promise<FerryProcess> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'ferry-test-'));
  const env: Record<string, string | undefined> = {
    ...process.env,
    PORT: '0',
    // A free port, so that parallel test processes never collide on the default 9090.
    FERRY_MCP_PORT: '0',
    FERRY_DATA_DIR: dataDir,
    FERRY_API_KEY: `fy_test_${randomBytes(16).toString('hex')}`,
    FERRY_LOG_LEVEL: 'warn',
    ...options.env,
  };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const child = spawn(process.execPath, [binary, 'serve', ...(options.args ?? [])], {
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const port = await new Promise<number>((resolve, reject) => {
    // Generous: a first start migrates the embedded store, which takes long on a loaded machine.
    const timer = setTimeout(
      () => reject(new Error(`ferry did not start in time:\n${out}\n${err}`)),
      180_000,
    );
    const check = () => {
      const match = /listening on http:\/\/localhost:(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`ferry exited with ${code} before listening:\n${out}\n${err}`));
    });
  });
  const mcpPort = /MCP server on http:\/\/localhost:(\d+)/.exec(out)?.[1];
  const printedKey = /\n\s+(fy_[A-Za-z0-9_-]+)\n/.exec(out)?.[1];
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    mcpUrl: `http://127.0.0.1:${mcpPort}/`,
    adminKey: env.FERRY_API_KEY ?? printedKey ?? '',
    dataDir,
    child,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await exited;
      clearTimeout(kill);
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Plain HTTP with a key, returning status, headers and parsed JSON body. */
export async function http(
  baseUrl: string,
  method: string,
  route: string,
  options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers: {
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
  }).catch((error: Error & { cause?: { code?: string; message?: string } }) => {
    // undici says only "fetch failed": the cause says what the connection did.
    const cause = error.cause ? ` (${error.cause.code ?? ''} ${error.cause.message ?? ''})` : '';
    throw new Error(`${method} ${route}: ${error.message}${cause}`, { cause: error });
  });
  const text = await response.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: response.status, headers: response.headers, body };
}
