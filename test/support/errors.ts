/** Base class for failures of the test harness, with a stable `code` that tests can match on. */
export class HarnessError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A command exited with a non-zero status, was killed by a signal, or timed out. */
export class CommandFailedError extends HarnessError {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderr: string,
    reason: string,
  ) {
    const details = stderr.trim() === '' ? '' : `\n${stderr.trim()}`;
    super('COMMAND_FAILED', `Command failed (${reason}): ${command}${details}`);
  }
}

/** A command could not be started, usually because the executable is not installed. */
export class CommandNotFoundError extends HarnessError {
  constructor(
    readonly command: string,
    cause: unknown,
  ) {
    super(
      'COMMAND_NOT_FOUND',
      `Command "${command}" could not be started. Install the test tools with scripts/ensure-tools.sh.`,
      { cause },
    );
  }
}

/** `waitFor` ran out of time before its condition held. */
export class WaitTimeoutError extends HarnessError {
  constructor(description: string, timeoutMs: number, lastError: unknown) {
    const last =
      lastError === undefined
        ? ''
        : ` Last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
    super('WAIT_TIMEOUT', `Timed out after ${timeoutMs} ms waiting for ${description}.${last}`, {
      cause: lastError,
    });
  }
}

/** The registry process exited or did not respond to `GET /v2/` in time. */
export class RegistryStartError extends HarnessError {
  constructor(message: string, logs: string, cause?: unknown) {
    const output = logs.trim() === '' ? '(none)' : logs.trim();
    super('REGISTRY_START_FAILED', `${message}\nRegistry output:\n${output}`, { cause });
  }
}

/** An image option (name, file path, label key) or an OCI layout is invalid. */
export class InvalidImageError extends HarnessError {
  constructor(message: string, cause?: unknown) {
    super('INVALID_IMAGE', message, { cause });
  }
}
