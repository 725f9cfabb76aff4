import { RegistryError } from './errors';

export type RegistryCredentials =
  | { type: 'basic'; username: string; password: string }
  /** A static bearer token, sent as is in every request. */
  | { type: 'token'; token: string };

/** One HTTP exchange, reported after its response headers arrive or after it fails. */
export interface RegistryRequestInfo {
  method: string;
  url: string;
  /** HTTP status, absent when no response arrived (timeout or network error). */
  status?: number;
  /** 1 for the first try of a request, 2 for its first retry, and so on. */
  attempt: number;
  durationMs: number;
}

export interface RegistryClientOptions {
  /** Registry name from the service configuration, used in error messages. */
  name: string;
  /**
   * Origin of the registry, such as `http://127.0.0.1:5000`. It is the only origin the client
   * contacts, apart from token realms listed in `tokenRealmOrigins`.
   */
  baseUrl: string;
  credentials?: RegistryCredentials;
  /** Further origins that may serve tokens (auth servers). Default none. */
  tokenRealmOrigins?: string[];
  /** Maximum time in ms for one HTTP exchange, including its redirects and body. Default 15000. */
  timeoutMs?: number;
  /** Maximum number of retries after timeouts, network errors, 429 and 5xx. Default 4. */
  maxRetries?: number;
  /** Delay in ms before the first retry, doubled for each further retry, with jitter. Default 250. */
  retryBaseMs?: number;
  /** Maximum delay in ms before a retry, also the cap on `Retry-After`. Default 30000. */
  maxRetryDelayMs?: number;
  /** Maximum manifest size in bytes, also applied to referrers indexes. Default 4 MiB. */
  maxManifestBytes?: number;
  /** Maximum blob size in bytes when `getBlob` gets no limit. Default 4 MiB. */
  maxBlobBytes?: number;
  /** Maximum size in bytes of one page of a catalog or tag list. Default 16 MiB. */
  maxListPageBytes?: number;
  /** Maximum number of descriptors that `listReferrers` reads. Default 1000. */
  maxReferrers?: number;
  userAgent?: string;
  /** Called once per HTTP exchange, token requests included. Exceptions it throws are ignored. */
  onRequest?: (info: RegistryRequestInfo) => void;
}

/** Options with defaults applied and the origins parsed. */
export interface ResolvedOptions {
  name: string;
  baseUrl: URL;
  origin: string;
  credentials?: RegistryCredentials;
  tokenRealmOrigins: ReadonlySet<string>;
  timeoutMs: number;
  maxRetries: number;
  retryBaseMs: number;
  maxRetryDelayMs: number;
  maxManifestBytes: number;
  maxBlobBytes: number;
  maxListPageBytes: number;
  maxReferrers: number;
  userAgent: string;
  onRequest?: (info: RegistryRequestInfo) => void;
}

const MIB = 1024 * 1024;

export const DEFAULT_USER_AGENT = 'image-provenance-registry-client/0.1';

/** Checks the options and applies defaults. Throws `invalid-argument` for the first invalid value. */
export function resolveOptions(options: RegistryClientOptions): ResolvedOptions {
  if (options.name.trim() === '') {
    throw new RegistryError('invalid-argument', 'Registry name must not be empty.');
  }
  const baseUrl = parseOrigin(options.baseUrl, `baseUrl of registry "${options.name}"`);
  const tokenRealmOrigins = new Set(
    (options.tokenRealmOrigins ?? []).map(
      (origin) =>
        parseOrigin(origin, `tokenRealmOrigins entry of registry "${options.name}"`).origin,
    ),
  );
  checkCredentials(options);

  return {
    name: options.name,
    baseUrl,
    origin: baseUrl.origin,
    credentials: options.credentials,
    tokenRealmOrigins,
    timeoutMs: positiveInteger(options, 'timeoutMs', 15_000),
    maxRetries: nonNegativeInteger(options, 'maxRetries', 4),
    retryBaseMs: nonNegativeInteger(options, 'retryBaseMs', 250),
    maxRetryDelayMs: nonNegativeInteger(options, 'maxRetryDelayMs', 30_000),
    maxManifestBytes: positiveInteger(options, 'maxManifestBytes', 4 * MIB),
    maxBlobBytes: positiveInteger(options, 'maxBlobBytes', 4 * MIB),
    maxListPageBytes: positiveInteger(options, 'maxListPageBytes', 16 * MIB),
    maxReferrers: positiveInteger(options, 'maxReferrers', 1000),
    userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
    onRequest: options.onRequest,
  };
}

/**
 * Parses an http or https URL that names an origin only. A path other than "/", a query, a
 * fragment or user info is rejected, because the registry API lives at `/v2/` of the origin.
 */
function parseOrigin(value: string, description: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch (error) {
    throw new RegistryError(
      'invalid-argument',
      `Invalid ${description} ${JSON.stringify(value)}: not a URL.`,
      { cause: error },
    );
  }
  const problem = findOriginProblem(url);
  if (problem !== undefined) {
    // The URL may contain user info, so the message shows the origin only.
    throw new RegistryError(
      'invalid-argument',
      `Invalid ${description} at ${url.origin}: ${problem}.`,
    );
  }
  return url;
}

function findOriginProblem(url: URL): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return 'expected an http or https URL';
  }
  if (url.username !== '' || url.password !== '') {
    return 'credentials belong in the credentials option, not in the URL';
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    return 'expected an origin such as "https://registry.example.com:5000" without path, query or fragment';
  }
  return undefined;
}

function checkCredentials(options: RegistryClientOptions): void {
  const credentials = options.credentials;
  if (credentials === undefined) {
    return;
  }
  const fields: Array<[string, string]> =
    credentials.type === 'basic'
      ? [
          ['username', credentials.username],
          ['password', credentials.password],
        ]
      : [['token', credentials.token]];
  const missing = fields.find(([, value]) => value === '')?.[0];
  if (missing !== undefined) {
    throw new RegistryError(
      'invalid-argument',
      `Invalid credentials of registry "${options.name}": the ${missing} is empty.`,
    );
  }
  if (credentials.type === 'basic' && credentials.username.includes(':')) {
    throw new RegistryError(
      'invalid-argument',
      `Invalid credentials of registry "${options.name}": a Basic auth username must not contain ":".`,
    );
  }
}

type NumericOption =
  | 'timeoutMs'
  | 'maxRetries'
  | 'retryBaseMs'
  | 'maxRetryDelayMs'
  | 'maxManifestBytes'
  | 'maxBlobBytes'
  | 'maxListPageBytes'
  | 'maxReferrers';

function positiveInteger(
  options: RegistryClientOptions,
  key: NumericOption,
  fallback: number,
): number {
  const value = nonNegativeInteger(options, key, fallback);
  if (value === 0) {
    throw new RegistryError(
      'invalid-argument',
      `Invalid ${key} of registry "${options.name}": expected a positive integer, got 0.`,
    );
  }
  return value;
}

function nonNegativeInteger(
  options: RegistryClientOptions,
  key: NumericOption,
  fallback: number,
): number {
  const value = options[key];
  if (value === undefined) {
    return fallback;
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RegistryError(
      'invalid-argument',
      `Invalid ${key} of registry "${options.name}": expected a non-negative integer, got ${String(value)}.`,
    );
  }
  return value;
}
