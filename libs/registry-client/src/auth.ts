import { z } from 'zod';

import { RegistryError } from './errors';
import { RegistryCredentials } from './options';
import { parseJsonBody, statusError, urlForError } from './responses';
import { ExchangeResponse } from './transport';
import { AuthChallenge, parseWwwAuthenticate } from './www-authenticate';

/**
 * Lifetime in seconds of a token whose response has no `expires_in`, as set by the token
 * specification of CNCF Distribution (`docs/spec/auth/token.md`).
 */
const DEFAULT_TOKEN_LIFETIME_SECONDS = 60;

/** Seconds before its expiry at which a cached token is no longer sent. */
const TOKEN_EXPIRY_MARGIN_SECONDS = 10;

/** Maximum size in bytes of a token endpoint response. Bearer tokens are usually JWTs of a few KiB. */
export const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;

/** Token endpoint response. `token` and `access_token` carry the same value, and either may be absent. */
const tokenResponseSchema = z.object({
  token: z.string().min(1).optional(),
  access_token: z.string().min(1).optional(),
  expires_in: z.number().positive().optional(),
});

interface CachedToken {
  authorization: string;
  expiresAtMs: number;
}

export interface TokenRequest {
  url: URL;
  /** `Authorization` header for the token endpoint: Basic credentials, or none. */
  authorization?: string;
  subject: string;
}

export interface AuthenticatorOptions {
  registryName: string;
  /** Origin of the registry. A token realm on this origin is always allowed. */
  origin: string;
  tokenRealmOrigins: ReadonlySet<string>;
  credentials?: RegistryCredentials;
  /** Sends a token request, with retries, and returns the response. */
  sendTokenRequest: (request: TokenRequest) => Promise<ExchangeResponse>;
  now?: () => number;
}

/**
 * Produces the `Authorization` header of registry requests and responds to 401 challenges.
 *
 * Bearer tokens from the challenge's realm are cached per scope (such as
 * `repository:library/alpine:pull`) until `expires_in` minus a 10 s margin, and concurrent
 * requests for one scope share a single token request. After a Basic challenge, Basic
 * credentials are sent with every request. A static token is sent with every request.
 */
export class RegistryAuthenticator {
  readonly #options: AuthenticatorOptions;
  readonly #tokens = new Map<string, CachedToken>();
  readonly #pendingTokens = new Map<string, Promise<string>>();
  #sendBasicFirst = false;

  constructor(options: AuthenticatorOptions) {
    this.#options = options;
  }

  /** Returns the header to send before any challenge: a static token, Basic, or a cached token. */
  authorizationFor(scope: string): string | undefined {
    const credentials = this.#options.credentials;
    if (credentials?.type === 'token') {
      return `Bearer ${credentials.token}`;
    }
    if (this.#sendBasicFirst && credentials?.type === 'basic') {
      return basicAuthorization(credentials);
    }
    return this.cachedToken(scope);
  }

  private cachedToken(scope: string): string | undefined {
    const cached = this.#tokens.get(scope);
    if (cached === undefined) {
      return undefined;
    }
    if (cached.expiresAtMs <= this.now()) {
      this.#tokens.delete(scope);
      return undefined;
    }
    return cached.authorization;
  }

  /**
   * Responds to the challenge of a 401 response to a request sent with `sentAuthorization`.
   * Returns the header for one more try, or undefined when nothing more can be tried, as with
   * a static token or a Basic challenge without Basic credentials. A cached token equal to
   * the refused one is dropped and replaced. A newer cached token, fetched meanwhile by a
   * concurrent request, is returned as is.
   */
  async respondToChallenge(
    response: ExchangeResponse,
    scope: string,
    sentAuthorization: string | undefined,
  ): Promise<string | undefined> {
    const credentials = this.#options.credentials;
    if (credentials?.type === 'token') {
      return undefined;
    }

    const challenges = parseWwwAuthenticate(response.headers.get('www-authenticate') ?? '');
    const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
    if (bearer !== undefined) {
      const cached = this.cachedToken(scope);
      if (cached !== undefined && cached !== sentAuthorization) {
        return cached;
      }
      this.#tokens.delete(scope);
      return this.fetchTokenOnce(bearer, scope);
    }
    const basic = challenges.find((challenge) => challenge.scheme === 'basic');
    if (basic === undefined || credentials?.type !== 'basic') {
      return undefined;
    }
    this.#sendBasicFirst = true;
    const authorization = basicAuthorization(credentials);
    // Credentials the registry has just refused would be refused again.
    return authorization === sentAuthorization ? undefined : authorization;
  }

  /** Fetches a token for `scope`, joining a token request for the same scope already running. */
  private fetchTokenOnce(challenge: AuthChallenge, scope: string): Promise<string> {
    const pending = this.#pendingTokens.get(scope);
    if (pending !== undefined) {
      return pending;
    }
    const request = this.fetchToken(challenge, scope).finally(() => {
      this.#pendingTokens.delete(scope);
    });
    this.#pendingTokens.set(scope, request);
    return request;
  }

  private async fetchToken(challenge: AuthChallenge, scope: string): Promise<string> {
    const realm = this.realmUrl(challenge);
    const url = new URL(realm);
    if (challenge.params.service !== undefined) {
      url.searchParams.set('service', challenge.params.service);
    }
    // The scope of the challenge names the actions the registry requires, so it takes
    // precedence. Several space-separated scopes become repeated `scope` parameters, as the
    // token specification of CNCF Distribution requires.
    const scopes = (challenge.params.scope ?? scope).split(' ').filter((entry) => entry !== '');
    for (const entry of scopes) {
      url.searchParams.append('scope', entry);
    }

    const subject = `token from ${realm.origin}${realm.pathname}`;
    const credentials = this.#options.credentials;
    const response = await this.#options.sendTokenRequest({
      url,
      authorization: credentials?.type === 'basic' ? basicAuthorization(credentials) : undefined,
      subject,
    });
    if (response.status !== 200) {
      throw statusError(this.#options.registryName, subject, response);
    }

    const { token, lifetimeSeconds } = this.parseTokenResponse(response, subject);
    const authorization = `Bearer ${token}`;
    const cachedSeconds = lifetimeSeconds - TOKEN_EXPIRY_MARGIN_SECONDS;
    if (cachedSeconds > 0) {
      this.#tokens.set(scope, { authorization, expiresAtMs: this.now() + cachedSeconds * 1000 });
    }
    return authorization;
  }

  /** Returns the realm URL, or throws `forbidden-origin` before anything is sent to it. */
  private realmUrl(challenge: AuthChallenge): URL {
    const name = this.#options.registryName;
    const realm = challenge.params.realm;
    let url: URL;
    try {
      url = new URL(realm ?? '');
    } catch (error) {
      throw new RegistryError(
        'invalid-response',
        `Registry "${name}" sent a Bearer challenge with a missing or invalid realm ${JSON.stringify((realm ?? '').slice(0, 200))}.`,
        { cause: error },
      );
    }
    const allowed =
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      (url.origin === this.#options.origin || this.#options.tokenRealmOrigins.has(url.origin));
    if (!allowed) {
      throw new RegistryError(
        'forbidden-origin',
        `Registry "${name}" sent a token realm on ${url.origin}, which is neither the registry's origin nor in tokenRealmOrigins. No token was requested. Add the origin to tokenRealmOrigins if this auth server is trusted.`,
        { url: `${url.origin}${url.pathname}` },
      );
    }
    if (url.username !== '' || url.password !== '') {
      throw new RegistryError(
        'invalid-response',
        `Registry "${name}" sent a token realm on ${url.origin} with user info. No token was requested.`,
      );
    }
    return url;
  }

  private parseTokenResponse(
    response: ExchangeResponse,
    subject: string,
  ): { token: string; lifetimeSeconds: number } {
    const name = this.#options.registryName;
    const body = parseJsonBody(name, subject, response.body, tokenResponseSchema, response);
    const token = body.token ?? body.access_token;
    if (token === undefined) {
      throw new RegistryError(
        'invalid-response',
        `Registry "${name}": ${subject} is invalid: it has neither "token" nor "access_token".`,
        { status: response.status, url: urlForError(response.url) },
      );
    }
    return { token, lifetimeSeconds: body.expires_in ?? DEFAULT_TOKEN_LIFETIME_SECONDS };
  }

  private now(): number {
    return (this.#options.now ?? Date.now)();
  }
}

function basicAuthorization(credentials: { username: string; password: string }): string {
  const encoded = Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString(
    'base64',
  );
  return `Basic ${encoded}`;
}
