/**
 * Small helpers shared by the benchmarks: cleanup stack, timed shell commands, Ferry API calls,
 * peak RSS of a process tree, machine facts and the printed table.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Last-in, first-out cleanup steps; each runs once, errors are reported and do not stop the others. */
export class Cleanup {
  #steps: { label: string; run: () => unknown }[] = [];

  add(label: string, run: () => unknown): void {
    this.#steps.push({ label, run });
  }

  async runAll(): Promise<void> {
    while (this.#steps.length > 0) {
      const step = this.#steps.pop()!;
      try {
        await step.run();
      } catch (error) {
        console.error(`cleanup "${step.label}" failed: ${(error as Error).message}`);
      }
    }
  }
}

/** Parses `--name value` / `--name=value` options and bare words. */
export function parseArgs(argv: string[]): { words: string[]; options: Map<string, string> } {
  const words: string[] = [];
  const options = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      words.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq > 0) options.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) options.set(arg.slice(2), argv[++i]!);
    else options.set(arg.slice(2), 'true');
  }
  return { words, options };
}

export interface ShellResult {
  code: number | null;
  seconds: number;
  stdout: string;
  stderr: string;
}

/** Runs a bash command line (with pipefail) and times it from spawn to exit. */
export function runShell(command: string, env: NodeJS.ProcessEnv = process.env): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('bash', ['-o', 'pipefail', '-c', command], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({ code, seconds: (performance.now() - started) / 1000, stdout, stderr }),
    );
  });
}

/** A psql command line on `db` that runs `commands` in order (each one `-c`), stopping at an error. */
export const psql = (db: { url: string }, ...commands: string[]) =>
  `psql -X -q -v ON_ERROR_STOP=1 -d '${db.url}' ${commands.map((sql) => `-c '${sql}'`).join(' ')}`;

/** The sum of the `Time: N ms` lines that psql prints under `\\timing on`, in seconds. */
export const psqlStatementSeconds = (stdout: string): number =>
  [...stdout.matchAll(/^Time: ([\d.]+) ms/gm)].reduce((sum, m) => sum + Number(m[1]), 0) / 1000;

export const which = async (binary: string): Promise<string | undefined> => {
  const result = await runShell(`command -v ${binary}`);
  return result.code === 0 ? result.stdout.trim() : undefined;
};

const ferryBinary = path.resolve(import.meta.dirname, '../bin/ferry.js');

export interface FerryServer {
  url: string;
  apiKey: string;
  child: ChildProcess;
  /** The process that runs the server (the child, or its re-executed descendant). */
  pid: number;
  stderr: () => string;
  /** SIGTERM, SIGKILL after 20 s; resolves when the process is gone. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts `ferry serve` on a free port (like test/support/ferry.ts), but never leaves the child behind:
 * a start that fails (exit, fatal `ferry:` line on stderr, 60 s without listening) kills it.
 */
export async function startFerryServer(options: {
  dataDir: string;
  apiKey: string;
  env?: Record<string, string>;
}): Promise<FerryServer> {
  const child = spawn(process.execPath, [ferryBinary, 'serve'], {
    env: {
      ...process.env,
      PORT: '0',
      // A free port for the MCP listener too: its default 9090 may be taken by another Ferry.
      FERRY_MCP_PORT: '0',
      FERRY_DATA_DIR: options.dataDir,
      FERRY_API_KEY: options.apiKey,
      FERRY_LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (err += chunk));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(kill);
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const started = performance.now();
      const timer = setInterval(() => {
        const match = /listening on http:\/\/localhost:(\d+)/.exec(out);
        let failure: string | undefined;
        if (match) {
          clearInterval(timer);
          resolve(Number(match[1]));
          return;
        }
        if (child.exitCode !== null || child.signalCode !== null)
          failure = `ferry exited (${child.exitCode ?? child.signalCode}) before listening:\n${out}${err}`;
        else if (/^ferry: /m.test(err) && performance.now() - started > 5_000)
          failure = `ferry failed to start: ${/^ferry: .*$/m.exec(err)![0]}`;
        else if (performance.now() - started > 60_000)
          failure = `ferry did not listen within 60 s:\n${out}${err}`;
        if (failure !== undefined) {
          clearInterval(timer);
          reject(new Error(failure));
        }
      }, 50);
    });
    return {
      url: `http://127.0.0.1:${port}`,
      apiKey: options.apiKey,
      child,
      pid: serverPid(child.pid!),
      stderr: () => err,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The Ferry API of one server process; throws on any non-2xx answer. */
export async function api<T = any>(
  ferry: { url: string; apiKey: string },
  method: string,
  route: string,
  body?: unknown,
) {
  const response = await fetch(`${ferry.url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${ferry.apiKey}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: any = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {}
  if (!response.ok) throw new Error(`${method} ${route} → ${response.status}: ${text.slice(0, 2000)}`);
  return parsed as T;
}

const children = (pid: number): number[] => {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) follows the parenthesised command name, which may contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {}
  }
  return found;
};

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
};

/**
 * The process that actually runs the server: the spawned child, or, when `bin/ferry.js` re-executed
 * itself on the pinned Node, its deepest descendant that still runs `ferry.js serve`.
 */
export function serverPid(rootPid: number): number {
  let pid = rootPid;
  for (;;) {
    const next = children(pid).find((child) => /ferry\.js\b.*\bserve\b/.test(cmdline(child)));
    if (next === undefined) return pid;
    pid = next;
  }
}

/** Peak resident set size (VmHWM; or VmRSS, the current one) of a live process, in MB. */
export function peakRssMb(pid: number, field: 'VmHWM' | 'VmRSS' = 'VmHWM'): number | undefined {
  if (!existsSync(`/proc/${pid}/status`)) return undefined;
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(
    readFileSync(`/proc/${pid}/status`, 'utf8'),
  );
  return match ? Number(match[1]) / 1024 : undefined;
}

/**
 * Resets VmHWM of a process to its current RSS (Linux: `echo 5 > /proc/<pid>/clear_refs`), so that the
 * next reading is the peak of what follows. Returns false where the kernel does not allow it.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export function machineFacts(): string[] {
  const cpus = os.cpus();
  return [
    `command:  ${process.argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`,
    `machine:  ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}`,
    `node:     ${process.version} (${process.execPath})`,
    `date:     ${new Date().toISOString()}`,
  ];
}

/** A plain text table: first row is the header, numbers right-aligned. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  const numeric = (s: string) => /^[-+]?[\d.,]+( ?[%×x])?$/.test(s);
  const line = (r: string[]) =>
    r
      .map((cell, col) => (numeric(cell) ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!)))
      .join(' | ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('-|-');
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

export const formatInt = (n: number) => Math.round(n).toLocaleString('en-US');
export const formatSeconds = (s: number) => (s < 10 ? s.toFixed(2) : s.toFixed(1));
