import { RegistryAuthenticator, MAX_TOKEN_RESPONSE_BYTES, TokenRequest } from './auth';
import { RegistryError } from './errors';
import { findNextLink } from './link-header';
import { ResolvedOptions } from './options';
import { invalidResponseError, isRetryableStatus, statusError, urlForError } from './responses';
import { computeBackoffMs, parseRetryAfterMs, sleep } from './retry-policy';
import { ExchangeResponse, HttpTransport } from './transport';

/** One registry API request, before authorization and retries. */
export interface RegistryRequest {
  method: 'GET' | 'HEAD';
  url: URL;
  accept?: string;
  /** Token scope, such as `repository:library/alpine:pull`. */
  scope: string;
  maxBodyBytes: number;
  subject: string;
}

/**
 * Sends registry API requests for {@link RegistryClient}: adds authorization and responds to
 * 401 challenges, retries failures, and follows paginated lists. Responses of every status
 * other than 429 and 5xx are returned for the caller to check.
 */
export class RegistryRequestSender {
  readonly #options: ResolvedOptions;
  readonly #transport: HttpTransport;
  readonly #auth: RegistryAuthenticator;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.#transport = new HttpTransport({
      registryName: options.name,
      timeoutMs: options.timeoutMs,
      onRequest: options.onRequest,
    });
    this.#auth = new RegistryAuthenticator({
      registryName: options.name,
      origin: options.origin,
      tokenRealmOrigins: options.tokenRealmOrigins,
      credentials: options.credentials,
      sendTokenRequest: (request) => this.sendTokenRequest(request),
    });
  }

  /** Throws the error for `response` unless its status is 200. */
  expectOk(response: ExchangeResponse, subject: string): void {
    if (response.status !== 200) {
      throw statusError(this.#options.name, subject, response);
    }
  }

  /**
   * Yields each page of a paginated list, starting with `firstResponse` when given, and
   * follows `Link: <...>; rel="next"` until a page has none. Throws `forbidden-origin` for a
   * link to another origin and `invalid-response` for a link to another path or back to a
   * page already read.
   */
  async *pages(
    request: RegistryRequest,
    firstResponse?: ExchangeResponse,
  ): AsyncGenerator<ExchangeResponse> {
    const visited = new Set<string>([request.url.href]);
    let response = firstResponse ?? (await this.send(request));
    while (true) {
      this.expectOk(response, request.subject);
      yield response;
      const next = this.nextPageUrl(request, response, visited);
      if (next === undefined) {
        return;
      }
      visited.add(next.href);
      response = await this.send({ ...request, url: next });
    }
  }

  /**
   * Resolves the `rel="next"` target of a page. A relative target resolves against the URL
   * of the page (RFC 8288), which is on the origin of `baseUrl`.
   */
  private nextPageUrl(
    request: RegistryRequest,
    response: ExchangeResponse,
    visited: ReadonlySet<string>,
  ): URL | undefined {
    const target = findNextLink(response.headers.get('link'));
    if (target === undefined) {
      return undefined;
    }
    let next: URL;
    try {
      next = new URL(target, response.url);
    } catch (error) {
      throw invalidResponseError(
        this.#options.name,
        request.subject,
        response,
        'the Link header has an invalid URL',
        error,
      );
    }
    if (next.origin !== this.#options.origin) {
      throw new RegistryError(
        'forbidden-origin',
        `Registry "${this.#options.name}": the next page of ${request.subject} is on ${next.origin}, which is not the registry's origin, so the link was not followed.`,
        { status: response.status, url: urlForError(response.url) },
      );
    }
    if (next.username !== '' || next.password !== '') {
      throw invalidResponseError(
        this.#options.name,
        request.subject,
        response,
        'the Link header has a URL with user info',
      );
    }
    if (next.pathname !== request.url.pathname) {
      throw invalidResponseError(
        this.#options.name,
        request.subject,
        response,
        `the Link header points to another path ${JSON.stringify(next.pathname.slice(0, 200))}`,
      );
    }
    if (visited.has(next.href)) {
      throw invalidResponseError(
        this.#options.name,
        request.subject,
        response,
        'the Link header points to a page already read',
      );
    }
    return next;
  }

  /**
   * Sends a request with the current authorization and responds to one 401 challenge. A second
   * 401 is returned to the caller, which reports it as `unauthorized`.
   */
  async send(request: RegistryRequest): Promise<ExchangeResponse> {
    const sentAuthorization = this.#auth.authorizationFor(request.scope);
    const response = await this.sendWithRetries(request, sentAuthorization);
    if (response.status !== 401) {
      return response;
    }
    const authorization = await this.#auth.respondToChallenge(
      response,
      request.scope,
      sentAuthorization,
    );
    if (authorization === undefined) {
      return response;
    }
    return this.sendWithRetries(request, authorization);
  }

  private sendWithRetries(
    request: RegistryRequest,
    authorization: string | undefined,
  ): Promise<ExchangeResponse> {
    const headers: Record<string, string> = {
      'user-agent': this.#options.userAgent,
      // An uncompressed body keeps Content-Length equal to the bytes read, so the size check
      // before reading is exact.
      'accept-encoding': 'identity',
    };
    if (request.accept !== undefined) {
      headers.accept = request.accept;
    }
    if (authorization !== undefined) {
      headers.authorization = authorization;
    }
    return this.withRetries(request.subject, (attempt) =>
      this.#transport.exchange({
        method: request.method,
        url: request.url,
        headers,
        maxBodyBytes: request.maxBodyBytes,
        attempt,
        subject: request.subject,
      }),
    );
  }

  /** Sends a token request. Redirects stay on the realm's origin, as for registry requests. */
  private sendTokenRequest(request: TokenRequest): Promise<ExchangeResponse> {
    const headers: Record<string, string> = {
      'user-agent': this.#options.userAgent,
      'accept-encoding': 'identity',
      accept: 'application/json',
    };
    if (request.authorization !== undefined) {
      headers.authorization = request.authorization;
    }
    return this.withRetries(request.subject, (attempt) =>
      this.#transport.exchange({
        method: 'GET',
        url: request.url,
        headers,
        maxBodyBytes: MAX_TOKEN_RESPONSE_BYTES,
        attempt,
        subject: request.subject,
      }),
    );
  }

  /**
   * Calls `exchange` until it returns a status other than 429 or 5xx, retrying those statuses,
   * timeouts and network errors up to `maxRetries` times. The delay is `Retry-After` when the
   * response has one, else exponential backoff, and both are capped at `maxRetryDelayMs`. When
   * the retries run out, the last failure is thrown.
   */
  private async withRetries(
    subject: string,
    exchange: (attempt: number) => Promise<ExchangeResponse>,
  ): Promise<ExchangeResponse> {
    for (let attempt = 1; ; attempt += 1) {
      const canRetry = attempt <= this.#options.maxRetries;
      let response: ExchangeResponse;
      try {
        response = await exchange(attempt);
      } catch (error) {
        if (!(error instanceof RegistryError) || !error.retryable) {
          throw error;
        }
        if (!canRetry) {
          throw withRetryCount(error, attempt - 1);
        }
        await sleep(this.backoffMs(attempt));
        continue;
      }

      if (!isRetryableStatus(response.status)) {
        return response;
      }
      if (!canRetry) {
        throw statusError(this.#options.name, subject, response, attempt - 1);
      }
      await sleep(this.retryDelayMs(attempt, response));
    }
  }

  private retryDelayMs(attempt: number, response: ExchangeResponse): number {
    const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'), Date.now());
    if (retryAfterMs === undefined) {
      return this.backoffMs(attempt);
    }
    return Math.min(retryAfterMs, this.#options.maxRetryDelayMs);
  }

  private backoffMs(attempt: number): number {
    return computeBackoffMs(attempt, this.#options.retryBaseMs, this.#options.maxRetryDelayMs);
  }
}

/** Returns `error` with the number of retries appended to its message, keeping its code. */
function withRetryCount(error: RegistryError, retries: number): RegistryError {
  if (retries === 0) {
    return error;
  }
  return new RegistryError(error.code, `${error.message} Gave up after ${retries} retries.`, {
    status: error.status,
    url: error.url,
    cause: error,
  });
}
