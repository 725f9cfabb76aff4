import {
  Descriptor,
  MANIFEST_ACCEPT,
  MediaType,
  OciError,
  digestMatches,
  isDigest,
  isSchema1MediaType,
  mediaTypeFromContentType,
  parseDescriptor,
  sha256Digest,
} from '@app/oci';
import { z } from 'zod';

import { RegistryError } from './errors';
import {
  assertDigestArgument,
  assertMediaType,
  assertReference,
  assertRepository,
  referrersTagFor,
} from './names';
import { RegistryClientOptions, ResolvedOptions, resolveOptions } from './options';
import { invalidResponseError, parseJsonBody, urlForError } from './responses';
import { RegistryRequest, RegistryRequestSender } from './request-sender';
import { ExchangeResponse } from './transport';
import { FetchedManifest, ManifestHead } from './types';

/** Token scope of catalog requests (distribution token scope grammar). */
const CATALOG_SCOPE = 'registry:catalog:*';

const MANIFEST_ACCEPT_HEADER = MANIFEST_ACCEPT.join(', ');

const catalogSchema = z.object({
  repositories: z.array(z.string()).nullable().optional(),
});

const tagListSchema = z.object({
  name: z.string().optional(),
  tags: z.array(z.string()).nullable().optional(),
});

/** Only the list is checked here, because `parseDescriptor` of `@app/oci` validates each entry. */
const indexSchema = z.object({
  manifests: z.array(z.unknown()),
});

function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

function manifestSubject(repository: string, reference: string): string {
  const separator = isDigest(reference) ? '@' : ':';
  return `manifest "${repository}${separator}${reference}"`;
}

/**
 * Client of the OCI distribution API for one registry.
 *
 * Requests go to the origin of `baseUrl` only: redirects and `Link` targets on other origins
 * are rejected with `forbidden-origin`, and token realms must be on that origin or listed in
 * `tokenRealmOrigins`. Every manifest and blob body is hashed, and bodies are read within
 * size limits. Timeouts, network errors, 429 and 5xx responses are retried with backoff.
 */
export class RegistryClient {
  readonly name: string;
  readonly #options: ResolvedOptions;
  readonly #sender: RegistryRequestSender;

  /** Throws {@link RegistryError} `invalid-argument` for invalid options. */
  constructor(options: RegistryClientOptions) {
    this.#options = resolveOptions(options);
    this.name = this.#options.name;
    this.#sender = new RegistryRequestSender(this.#options);
  }

  /**
   * Fetches a manifest by tag or digest, sending the Accept list of the four supported
   * manifest types. The returned digest is the sha256 of the exact body. Throws
   * `digest-mismatch` when the reference is a digest that the body does not hash to, or when
   * a `Docker-Content-Digest` header disagrees with the body, and `too-large` for a body over
   * `maxManifestBytes`.
   */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    assertRepository(repository);
    assertReference(reference);
    const subject = manifestSubject(repository, reference);
    const response = await this.#sender.send({
      method: 'GET',
      url: this.apiUrl(`/v2/${repository}/manifests/${reference}`),
      accept: MANIFEST_ACCEPT_HEADER,
      scope: pullScope(repository),
      maxBodyBytes: this.#options.maxManifestBytes,
      subject,
    });
    this.#sender.expectOk(response, subject);

    const mediaType = this.responseMediaType(response, subject);
    const bytes = response.body;
    if (isDigest(reference) && !digestMatches(bytes, reference)) {
      throw this.digestMismatch(subject, reference, response);
    }
    this.checkContentDigestHeader(response, mediaType, subject);
    return { digest: sha256Digest(bytes), mediaType, bytes };
  }

  /**
   * Reads digest, media type and size of a manifest with HEAD, and returns null on 404. When the
   * registry omits `Docker-Content-Digest` or `Content-Length`, or sends a digest other than
   * sha256, the manifest is fetched with GET and hashed instead.
   */
  async headManifest(repository: string, reference: string): Promise<ManifestHead | null> {
    assertRepository(repository);
    assertReference(reference);
    const subject = manifestSubject(repository, reference);
    const response = await this.#sender.send({
      method: 'HEAD',
      url: this.apiUrl(`/v2/${repository}/manifests/${reference}`),
      accept: MANIFEST_ACCEPT_HEADER,
      scope: pullScope(repository),
      maxBodyBytes: this.#options.maxManifestBytes,
      subject,
    });
    if (response.status === 404) {
      return null;
    }
    this.#sender.expectOk(response, subject);

    const headerDigest = response.headers.get('docker-content-digest')?.trim();
    const contentLength = response.headers.get('content-length')?.trim();
    const mediaType = mediaTypeFromContentType(response.headers.get('content-type') ?? undefined);
    if (
      headerDigest === undefined ||
      !headerDigest.startsWith('sha256:') ||
      contentLength === undefined ||
      mediaType === undefined
    ) {
      return this.headManifestWithGet(repository, reference);
    }

    if (!isDigest(headerDigest) || !/^\d+$/.test(contentLength)) {
      throw invalidResponseError(
        this.name,
        subject,
        response,
        'the Docker-Content-Digest or Content-Length header is malformed',
      );
    }
    if (reference.startsWith('sha256:') && headerDigest !== reference) {
      throw new RegistryError(
        'digest-mismatch',
        `Registry "${this.name}": HEAD of ${subject} returned digest ${headerDigest}, not the requested digest.`,
        { status: response.status, url: urlForError(response.url) },
      );
    }
    return { digest: headerDigest, mediaType, size: Number(contentLength) };
  }

  /**
   * Fetches a blob and checks that it hashes to `digest`. Throws `too-large` for a blob over
   * `maxBytes` (default `maxBlobBytes`) and `digest-mismatch` for other content.
   */
  async getBlob(repository: string, digest: string, maxBytes?: number): Promise<Buffer> {
    assertRepository(repository);
    assertDigestArgument(digest);
    const limit = maxBytes ?? this.#options.maxBlobBytes;
    if (!Number.isSafeInteger(limit) || limit <= 0) {
      throw new RegistryError(
        'invalid-argument',
        `Invalid maxBytes ${String(limit)} for blob "${repository}@${digest}": expected a positive integer.`,
      );
    }
    const subject = `blob "${repository}@${digest}"`;
    const response = await this.#sender.send({
      method: 'GET',
      url: this.apiUrl(`/v2/${repository}/blobs/${digest}`),
      scope: pullScope(repository),
      maxBodyBytes: limit,
      subject,
    });
    this.#sender.expectOk(response, subject);
    if (!digestMatches(response.body, digest)) {
      throw this.digestMismatch(subject, digest, response);
    }
    return response.body;
  }

  /**
   * Lists repository names from `/v2/_catalog`, following `Link` headers page by page.
   * `pageSize` is sent as `n`. Without it the registry picks the page size.
   */
  listRepositories(pageSize?: number): AsyncIterable<string> {
    const url = this.pagedUrl('/v2/_catalog', pageSize);
    const subject = 'repository catalog';
    return this.iterateEntries(url, CATALOG_SCOPE, subject, (body, response) => {
      const page = parseJsonBody(this.name, subject, body, catalogSchema, response);
      return page.repositories ?? [];
    });
  }

  /**
   * Lists the tags of a repository from `/v2/<repository>/tags/list`, following `Link`
   * headers page by page. `pageSize` is sent as `n`. Without it the registry picks the page
   * size. Tag names are returned as the registry sent them, without validation.
   */
  listTags(repository: string, pageSize?: number): AsyncIterable<string> {
    assertRepository(repository);
    const url = this.pagedUrl(`/v2/${repository}/tags/list`, pageSize);
    const subject = `tag list of "${repository}"`;
    return this.iterateEntries(url, pullScope(repository), subject, (body, response) => {
      const page = parseJsonBody(this.name, subject, body, tagListSchema, response);
      return page.tags ?? [];
    });
  }

  /**
   * Lists the descriptors of the manifests that refer to `digest` (OCI distribution spec 1.1
   * referrers API), following `Link` pages. When the registry responds with 404, reads the index
   * at the referrers tag schema tag (`sha256-<hex>`) instead, and returns an empty list when
   * that tag does not exist either. With `artifactType`, only descriptors of that artifact
   * type are returned. Throws `too-large` when more than `maxReferrers` descriptors are read.
   */
  async listReferrers(
    repository: string,
    digest: string,
    artifactType?: string,
  ): Promise<Descriptor[]> {
    assertRepository(repository);
    assertDigestArgument(digest);
    if (artifactType !== undefined) {
      assertMediaType(artifactType);
    }
    const url = this.apiUrl(`/v2/${repository}/referrers/${digest}`);
    if (artifactType !== undefined) {
      url.searchParams.set('artifactType', artifactType);
    }
    const subject = `referrers index of "${repository}@${digest}"`;
    const request: RegistryRequest = {
      method: 'GET',
      url,
      accept: MediaType.OCI_INDEX,
      scope: pullScope(repository),
      maxBodyBytes: this.#options.maxManifestBytes,
      subject,
    };

    const firstResponse = await this.#sender.send(request);
    if (firstResponse.status === 404) {
      return this.listReferrersFromTag(repository, digest, artifactType);
    }

    const descriptors: Descriptor[] = [];
    let pageCount = 0;
    for await (const page of this.#sender.pages(request, firstResponse)) {
      pageCount += 1;
      descriptors.push(...this.parseReferrersIndex(subject, page.body, page));
      // Counting pages as well stops a registry that sends empty pages without end.
      if (
        descriptors.length > this.#options.maxReferrers ||
        pageCount > this.#options.maxReferrers
      ) {
        throw this.tooManyReferrers(subject);
      }
    }
    // The filter is applied even when the registry sends `OCI-Filters-Applied: artifactType`.
    // For a registry that filtered, nothing changes, and a registry that claims the filter
    // without applying it cannot slip other artifacts through.
    return filterByArtifactType(descriptors, artifactType);
  }

  private async listReferrersFromTag(
    repository: string,
    digest: string,
    artifactType: string | undefined,
  ): Promise<Descriptor[]> {
    const tag = referrersTagFor(digest);
    let manifest: FetchedManifest;
    try {
      manifest = await this.getManifest(repository, tag);
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'not-found') {
        return [];
      }
      throw error;
    }

    const subject = `referrers tag ${manifestSubject(repository, tag)}`;
    if (manifest.mediaType !== MediaType.OCI_INDEX) {
      throw new RegistryError(
        'invalid-response',
        `Registry "${this.name}": ${subject} has media type "${manifest.mediaType}", expected "${MediaType.OCI_INDEX}".`,
      );
    }
    const descriptors = this.parseReferrersIndex(subject, manifest.bytes);
    if (descriptors.length > this.#options.maxReferrers) {
      throw this.tooManyReferrers(subject);
    }
    return filterByArtifactType(descriptors, artifactType);
  }

  /** Reads the `manifests` of a referrers index. Throws `invalid-response` for an invalid entry. */
  private parseReferrersIndex(
    subject: string,
    body: Buffer,
    response?: ExchangeResponse,
  ): Descriptor[] {
    const index = parseJsonBody(this.name, subject, body, indexSchema, response);
    if (index.manifests.length > this.#options.maxReferrers) {
      throw this.tooManyReferrers(subject);
    }
    const document = { code: 'invalid-manifest' as const, name: subject };
    try {
      return index.manifests.map((entry, position) =>
        parseDescriptor(document, entry, `manifests[${position}]`),
      );
    } catch (error) {
      if (!(error instanceof OciError)) {
        throw error;
      }
      throw new RegistryError('invalid-response', `Registry "${this.name}": ${error.message}`, {
        status: response?.status,
        url: response === undefined ? undefined : urlForError(response.url),
        cause: error,
      });
    }
  }

  private async *iterateEntries(
    url: URL,
    scope: string,
    subject: string,
    readPage: (body: Buffer, response: ExchangeResponse) => string[],
  ): AsyncGenerator<string> {
    const request: RegistryRequest = {
      method: 'GET',
      url,
      accept: 'application/json',
      scope,
      maxBodyBytes: this.#options.maxListPageBytes,
      subject,
    };
    for await (const page of this.#sender.pages(request)) {
      yield* readPage(page.body, page);
    }
  }

  private apiUrl(path: string): URL {
    return new URL(path, this.#options.baseUrl);
  }

  private pagedUrl(path: string, pageSize: number | undefined): URL {
    const url = this.apiUrl(path);
    if (pageSize !== undefined) {
      if (!Number.isSafeInteger(pageSize) || pageSize <= 0) {
        throw new RegistryError(
          'invalid-argument',
          `Invalid page size ${String(pageSize)} for ${path}: expected a positive integer.`,
        );
      }
      url.searchParams.set('n', String(pageSize));
    }
    return url;
  }

  private responseMediaType(response: ExchangeResponse, subject: string): string {
    const mediaType = mediaTypeFromContentType(response.headers.get('content-type') ?? undefined);
    if (mediaType === undefined) {
      throw invalidResponseError(this.name, subject, response, 'the response has no Content-Type');
    }
    return mediaType;
  }

  /**
   * Throws `digest-mismatch` when a sha256 `Docker-Content-Digest` header names other content
   * than the body. Schema 1 manifests are skipped, because registries compute their digest
   * over the payload without its signatures, not over the served bytes.
   */
  private checkContentDigestHeader(
    response: ExchangeResponse,
    mediaType: string,
    subject: string,
  ): void {
    const headerDigest = response.headers.get('docker-content-digest')?.trim();
    if (
      headerDigest === undefined ||
      !headerDigest.startsWith('sha256:') ||
      !isDigest(headerDigest) ||
      isSchema1MediaType(mediaType)
    ) {
      return;
    }
    if (!digestMatches(response.body, headerDigest)) {
      throw new RegistryError(
        'digest-mismatch',
        `Registry "${this.name}": the body of ${subject} does not match its Docker-Content-Digest header ${headerDigest}. The sha256 of the body is ${sha256Digest(response.body)}.`,
        { status: response.status, url: urlForError(response.url) },
      );
    }
  }

  private async headManifestWithGet(
    repository: string,
    reference: string,
  ): Promise<ManifestHead | null> {
    try {
      const manifest = await this.getManifest(repository, reference);
      return {
        digest: manifest.digest,
        mediaType: manifest.mediaType,
        size: manifest.bytes.length,
      };
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'not-found') {
        return null;
      }
      throw error;
    }
  }

  private digestMismatch(
    subject: string,
    expected: string,
    response: ExchangeResponse,
  ): RegistryError {
    return new RegistryError(
      'digest-mismatch',
      `Registry "${this.name}": the body of ${subject} does not hash to ${expected} (sha256 of the body is ${sha256Digest(response.body)}), so the content was rejected.`,
      { status: response.status, url: urlForError(response.url) },
    );
  }

  private tooManyReferrers(subject: string): RegistryError {
    return new RegistryError(
      'too-large',
      `Registry "${this.name}": ${subject} lists more than ${this.#options.maxReferrers} descriptors (maxReferrers).`,
    );
  }
}

function filterByArtifactType(
  descriptors: Descriptor[],
  artifactType: string | undefined,
): Descriptor[] {
  if (artifactType === undefined) {
    return descriptors;
  }
  return descriptors.filter((descriptor) => descriptor.artifactType === artifactType);
}
