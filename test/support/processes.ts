import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { CommandFailedError, CommandNotFoundError, WaitTimeoutError } from './errors';

export interface RunCommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Text written to the command's stdin; stdin is closed empty when absent. */
  input?: string;
  /** Maximum run time in ms before the command is killed with SIGKILL. Default 120000. */
  timeoutMs?: number;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion without a shell and returns its output.
 * Throws CommandNotFoundError when it cannot start and CommandFailedError on a non-zero
 * exit, a signal or a timeout.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  const commandLine = [command, ...args].join(' ');
  const timeoutMs = options.timeoutMs ?? 120_000;

  return new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);

    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        error.code === 'ENOENT'
          ? new CommandNotFoundError(command, error)
          : new CommandFailedError(commandLine, null, null, stderr, error.message),
      );
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(
          new CommandFailedError(
            commandLine,
            exitCode,
            signal,
            stderr,
            `timed out after ${timeoutMs} ms`,
          ),
        );
      } else if (exitCode !== 0) {
        const reason = signal === null ? `exit status ${exitCode}` : `killed by ${signal}`;
        reject(new CommandFailedError(commandLine, exitCode, signal, stderr, reason));
      } else {
        resolve({ stdout, stderr });
      }
    });

    child.stdin.on('error', () => {
      // The command may exit before reading stdin; its exit status reports the failure.
    });
    child.stdin.end(options.input ?? '');
  });
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started. */
  error?: Error;
}

export interface LongRunningProcess {
  readonly pid: number | undefined;
  /** Resolves when the process has exited or failed to start; never rejects. */
  readonly exited: Promise<ProcessExit>;
  /** Whether the process has exited or failed to start. */
  hasExited(): boolean;
  /** Returns stdout and stderr interleaved in arrival order, cut to the last `maxOutputChars`. */
  output(): string;
  /**
   * Sends `signal` (default SIGTERM), then SIGKILL after `timeoutMs` (default 5000), and
   * resolves when the process has exited. Processes that the command started are not signalled.
   */
  stop(options?: { signal?: NodeJS.Signals; timeoutMs?: number }): Promise<ProcessExit>;
}

export interface SpawnProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Amount of recent output kept in memory, in characters. Default 2000000. */
  maxOutputChars?: number;
}

/** Starts a long-running command without a shell and captures its output. */
export function spawnProcess(
  command: string,
  args: readonly string[],
  options: SpawnProcessOptions = {},
): LongRunningProcess {
  const maxOutputChars = options.maxOutputChars ?? 2_000_000;
  // The child stays in the caller's process group, so Ctrl-C on the test run reaches it too.
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let captured = '';
  const append = (chunk: string): void => {
    captured += chunk;
    if (captured.length > maxOutputChars) {
      captured = captured.slice(captured.length - maxOutputChars);
    }
  };
  child.stdout.setEncoding('utf8').on('data', append);
  child.stderr.setEncoding('utf8').on('data', append);

  let exitInfo: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.on('error', (error: NodeJS.ErrnoException) => {
      // 'error' without a pid means the spawn itself failed and no 'close' follows.
      if (child.pid === undefined && exitInfo === undefined) {
        exitInfo = {
          code: null,
          signal: null,
          error: error.code === 'ENOENT' ? new CommandNotFoundError(command, error) : error,
        };
        resolve(exitInfo);
      }
    });
    child.on('exit', (code, signal) => {
      const info: ProcessExit = { code, signal };
      // Output can still be in the pipes at 'exit'. 'close' waits for it, but never fires
      // while a process started by the command keeps the pipes open, so wait at most 500 ms.
      const settle = (): void => {
        if (exitInfo === undefined) {
          exitInfo = info;
          resolve(info);
        }
      };
      child.once('close', settle);
      setTimeout(settle, 500).unref();
    });
  });

  const stop = async (
    stopOptions: { signal?: NodeJS.Signals; timeoutMs?: number } = {},
  ): Promise<ProcessExit> => {
    if (exitInfo !== undefined) {
      return exitInfo;
    }
    child.kill(stopOptions.signal ?? 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), stopOptions.timeoutMs ?? 5000);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    pid: child.pid,
    exited,
    hasExited: () => exitInfo !== undefined,
    output: () => captured,
    stop,
  };
}

/**
 * Returns a TCP port on 127.0.0.1 that was free a moment ago.
 * NOTE: another process can take the port before the caller binds it, so callers that
 * start servers should retry on "address already in use".
 */
export function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`Unexpected server address ${String(address)} while finding a free port`));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

export interface WaitForOptions {
  /** What is awaited, for the timeout message, e.g. "the registry to respond to GET /v2/". */
  description: string;
  /** Default 10000. */
  timeoutMs?: number;
  /** Delay between attempts in ms. Default 100. */
  intervalMs?: number;
}

/**
 * Calls `condition` until it returns a value other than false, null or undefined, and
 * returns that value. An exception from `condition` counts as "not yet" and is kept for
 * the WaitTimeoutError that is thrown after `timeoutMs`.
 */
export async function waitFor<T>(
  condition: () => T | false | null | undefined | Promise<T | false | null | undefined>,
  options: WaitForOptions,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;

  for (;;) {
    try {
      const result = await condition();
      if (result !== false && result !== null && result !== undefined) {
        return result;
      }
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new WaitTimeoutError(options.description, timeoutMs, lastError);
    }
    await sleep(intervalMs);
  }
}
