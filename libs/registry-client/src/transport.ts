import { RegistryError } from './errors';
import { RegistryRequestInfo } from './options';

/** Maximum number of same-origin redirects followed for one request. */
const MAX_REDIRECTS = 3;

/**
 * Bytes kept from the body of a response that is not 2xx. Registries put short JSON error
 * lists there, and the rest is discarded without failing the request.
 */
const ERROR_BODY_BYTES = 64 * 1024;

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

export interface ExchangeRequest {
  method: 'GET' | 'HEAD';
  url: URL;
  headers: Record<string, string>;
  /** Maximum body size in bytes of a 2xx response. A larger body fails with `too-large`. */
  maxBodyBytes: number;
  /** Number of the try, passed to `onRequest`: 1 for the first try, 2 for the first retry. */
  attempt: number;
  /** Description of the requested content for error messages, such as `manifest "library/alpine:3.19"`. */
  subject: string;
}

export interface ExchangeResponse {
  status: number;
  headers: Headers;
  /** The body; empty for HEAD, and cut to 64 KiB when the status is not 2xx. */
  body: Buffer;
  /** URL that sent this response, after redirects. */
  url: URL;
}

export interface TransportOptions {
  registryName: string;
  timeoutMs: number;
  onRequest?: (info: RegistryRequestInfo) => void;
}

/**
 * Sends one HTTP request with `fetch`, follows redirects within the origin of the request
 * URL, and reads the body within a size limit. One timeout covers the redirects and the body.
 * Failures are thrown as {@link RegistryError}, but HTTP error statuses are returned.
 */
export class HttpTransport {
  constructor(private readonly options: TransportOptions) {}

  async exchange(request: ExchangeRequest): Promise<ExchangeResponse> {
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let url = request.url;

    for (let redirects = 0; ; redirects += 1) {
      const response = await this.fetchOnce(request, url, signal);
      if (!REDIRECT_STATUSES.has(response.status)) {
        const body = await this.readBodyOrThrow(request, url, response, signal);
        return { status: response.status, headers: response.headers, body, url };
      }

      await discardBody(response);
      url = this.redirectTarget(request, url, response, redirects);
    }
  }

  private async fetchOnce(
    request: ExchangeRequest,
    url: URL,
    signal: AbortSignal,
  ): Promise<Response> {
    const startedMs = performance.now();
    try {
      const response = await fetch(url, {
        method: request.method,
        headers: request.headers,
        redirect: 'manual',
        signal,
      });
      this.report(request, url, startedMs, response.status);
      return response;
    } catch (error) {
      this.report(request, url, startedMs, undefined);
      throw this.transportError(request, url, error, signal);
    }
  }

  private async readBodyOrThrow(
    request: ExchangeRequest,
    url: URL,
    response: Response,
    signal: AbortSignal,
  ): Promise<Buffer> {
    if (request.method === 'HEAD') {
      await discardBody(response);
      return Buffer.alloc(0);
    }
    const successful = response.status >= 200 && response.status < 300;
    try {
      if (successful) {
        return await readBodyWithinLimit(response, request.maxBodyBytes, () =>
          this.tooLargeError(request, url, response),
        );
      }
      return await readBodyPrefix(response, ERROR_BODY_BYTES);
    } catch (error) {
      throw this.transportError(request, url, error, signal);
    }
  }

  private redirectTarget(
    request: ExchangeRequest,
    from: URL,
    response: Response,
    redirects: number,
  ): URL {
    const prefix = `Registry "${this.options.registryName}": ${request.method} ${from.href}`;
    const location = response.headers.get('location');
    if (location === null) {
      throw new RegistryError(
        'invalid-response',
        `${prefix} returned HTTP ${response.status} without a Location header.`,
        { status: response.status, url: from.href },
      );
    }
    let target: URL;
    try {
      target = new URL(location, from);
    } catch (error) {
      throw new RegistryError(
        'invalid-response',
        `${prefix} redirected to an invalid URL ${JSON.stringify(location.slice(0, 200))}.`,
        { status: response.status, url: from.href, cause: error },
      );
    }
    // NOTE: registries that keep blobs in object storage (S3, GCS, Azure) redirect blob
    // downloads to that storage's origin, so getBlob fails with forbidden-origin on them.
    if (target.origin !== request.url.origin) {
      throw new RegistryError(
        'forbidden-origin',
        `${prefix} redirected to ${target.origin}, which is not the origin of the request, so the redirect was not followed.`,
        { status: response.status, url: from.href },
      );
    }
    if (target.username !== '' || target.password !== '') {
      throw new RegistryError(
        'invalid-response',
        `${prefix} redirected to a URL with user info, so the redirect was not followed.`,
        { status: response.status, url: from.href },
      );
    }
    if (redirects >= MAX_REDIRECTS) {
      throw new RegistryError(
        'invalid-response',
        `${prefix} redirected more than ${MAX_REDIRECTS} times.`,
        { status: response.status, url: from.href },
      );
    }
    return target;
  }

  private tooLargeError(request: ExchangeRequest, url: URL, response: Response): RegistryError {
    return new RegistryError(
      'too-large',
      `Registry "${this.options.registryName}": ${request.subject} is larger than the limit of ${request.maxBodyBytes} bytes, so the download was stopped.`,
      { status: response.status, url: url.href },
    );
  }

  /** Classifies a failed fetch or body read as a timeout or a network error. */
  private transportError(
    request: ExchangeRequest,
    url: URL,
    error: unknown,
    signal: AbortSignal,
  ): RegistryError {
    if (error instanceof RegistryError) {
      return error;
    }
    const prefix = `Registry "${this.options.registryName}": ${request.method} ${url.href}`;
    if (signal.aborted) {
      return new RegistryError(
        'timeout',
        `${prefix} timed out after ${this.options.timeoutMs} ms.`,
        { url: url.href, cause: error },
      );
    }
    return new RegistryError('network', `${prefix} failed: ${describeNetworkError(error)}.`, {
      url: url.href,
      cause: error,
    });
  }

  private report(
    request: ExchangeRequest,
    url: URL,
    startedMs: number,
    status: number | undefined,
  ): void {
    if (this.options.onRequest === undefined) {
      return;
    }
    try {
      this.options.onRequest({
        method: request.method,
        url: url.href,
        status,
        attempt: request.attempt,
        durationMs: Math.round(performance.now() - startedMs),
      });
    } catch {
      // A failing observer must not fail the request.
    }
  }
}

/**
 * Reads the whole body, or calls `tooLarge` and stops reading as soon as the body is known to
 * exceed `maxBytes`: from `Content-Length` before reading, or from the bytes received.
 */
async function readBodyWithinLimit(
  response: Response,
  maxBytes: number,
  tooLarge: () => RegistryError,
): Promise<Buffer> {
  const declaredLength = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declaredLength) && declaredLength > maxBytes) {
    await discardBody(response);
    throw tooLarge();
  }
  if (response.body === null) {
    return Buffer.alloc(0);
  }

  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** Reads at most `maxBytes` of the body and discards the rest. */
async function readBodyPrefix(response: Response, maxBytes: number): Promise<Buffer> {
  if (response.body === null) {
    return Buffer.alloc(0);
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < maxBytes) {
    const { done, value } = await reader.read();
    if (done) {
      return Buffer.concat(chunks, total);
    }
    const portion = value.subarray(0, maxBytes - total);
    chunks.push(portion);
    total += portion.byteLength;
  }
  await reader.cancel().catch(() => undefined);
  return Buffer.concat(chunks, total);
}

async function discardBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

interface ErrorLike {
  message: string;
  code?: unknown;
  cause?: unknown;
}

/**
 * Checks the shape instead of `instanceof Error`, because `fetch` creates its errors in
 * Node's own realm, which differs from the realm of code run in a VM context such as Jest's.
 */
function isErrorLike(value: unknown): value is ErrorLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/** Returns the system error code and message that `fetch` wraps in its "fetch failed" error. */
function describeNetworkError(error: unknown): string {
  if (!isErrorLike(error)) {
    return String(error);
  }
  const cause = error.cause;
  if (!isErrorLike(cause)) {
    return error.message;
  }
  return typeof cause.code === 'string' ? `${cause.code} (${cause.message})` : cause.message;
}
