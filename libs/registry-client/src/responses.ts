import { z } from 'zod';

import { RegistryError } from './errors';
import { ExchangeResponse } from './transport';

/** Error codes of the distribution spec's error body, such as `MANIFEST_UNKNOWN`. */
const errorBodySchema = z.object({
  errors: z.array(z.object({ code: z.string() }).passthrough()),
});

/**
 * Returns up to three error codes from a registry error body (`{"errors":[{"code":...}]}`),
 * keeping only codes made of capitals and underscores so that a hostile body cannot put
 * arbitrary text into messages.
 */
export function registryErrorCodes(body: Buffer): string[] {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return [];
  }
  const parsed = errorBodySchema.safeParse(json);
  if (!parsed.success) {
    return [];
  }
  return parsed.data.errors
    .map((entry) => entry.code)
    .filter((code) => /^[A-Z_]{1,64}$/.test(code))
    .slice(0, 3);
}

/** URL without its query, which may name scopes or page positions but is never needed in errors. */
export function urlForError(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** Builds the `invalid-response` error for a response whose body or headers are unusable. */
export function invalidResponseError(
  registryName: string,
  subject: string,
  response: ExchangeResponse,
  reason: string,
  cause?: unknown,
): RegistryError {
  return new RegistryError(
    'invalid-response',
    `Registry "${registryName}": ${subject} is invalid: ${reason}.`,
    { status: response.status, url: urlForError(response.url), cause },
  );
}

/**
 * Builds the error for a response whose status is not the expected one: 401 `unauthorized`,
 * 403 `forbidden`, 404 `not-found`, 429 `rate-limited`, 5xx `unavailable` and anything else
 * `invalid-response`. `retries` is the number of retries already made.
 */
export function statusError(
  registryName: string,
  subject: string,
  response: ExchangeResponse,
  retries = 0,
): RegistryError {
  const status = response.status;
  const codes = registryErrorCodes(response.body);
  const statusText = codes.length > 0 ? `HTTP ${status}, ${codes.join(', ')}` : `HTTP ${status}`;
  const afterRetries = retries > 0 ? ` after ${retries} retries` : '';
  const prefix = `Registry "${registryName}":`;
  const details = { status, url: urlForError(response.url) };

  if (status === 401) {
    return new RegistryError(
      'unauthorized',
      `${prefix} authentication for ${subject} failed (${statusText}). Check the credentials configured for this registry.`,
      details,
    );
  }
  if (status === 403) {
    return new RegistryError(
      'forbidden',
      `${prefix} access to ${subject} is denied (${statusText}).`,
      details,
    );
  }
  if (status === 404) {
    return new RegistryError(
      'not-found',
      `${prefix} ${subject} not found (${statusText}).`,
      details,
    );
  }
  if (status === 429) {
    return new RegistryError(
      'rate-limited',
      `${prefix} request for ${subject} was rate limited (${statusText})${afterRetries}.`,
      details,
    );
  }
  if (status >= 500 && status < 600) {
    return new RegistryError(
      'unavailable',
      `${prefix} request for ${subject} failed with a server error (${statusText})${afterRetries}.`,
      details,
    );
  }
  return new RegistryError(
    'invalid-response',
    `${prefix} request for ${subject} returned unexpected ${statusText}.`,
    details,
  );
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status < 600);
}

/**
 * Parses a JSON body and checks it against `schema`, throwing `invalid-response` otherwise.
 * `response` supplies the status and URL for the error.
 */
export function parseJsonBody<T>(
  registryName: string,
  subject: string,
  body: Buffer,
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  response?: { status: number; url: URL },
): T {
  const invalid = (reason: string, cause?: unknown): RegistryError =>
    new RegistryError(
      'invalid-response',
      `Registry "${registryName}": ${subject} is invalid: ${reason}.`,
      {
        status: response?.status,
        url: response === undefined ? undefined : urlForError(response.url),
        cause,
      },
    );

  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw invalid('the body is not JSON', error);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.length > 0 ? issue.path.join('.') : 'the body';
    throw invalid(`${path}: ${issue.message}`, parsed.error);
  }
  return parsed.data;
}
