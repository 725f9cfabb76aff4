import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { SignatureJobError } from './errors';

/** A problem that stops one discovery source without failing the job; stored as a verdict reason. */
export interface DiscoveryProblem {
  code: string;
  message: string;
  source: string;
}

export interface LookasideSignature {
  /** N of `signature-N`, from 1. */
  index: number;
  bytes: Buffer;
}

export interface LookasideResult {
  signatures: LookasideSignature[];
  problems: DiscoveryProblem[];
}

export interface LookasideLimits {
  /** Signatures to read at most. */
  maxSignatures: number;
  /** Bytes of one signature at most. */
  maxSignatureBytes: number;
  /** Time for one HTTP request, body included, in milliseconds. */
  timeoutMs: number;
}

type ReadOutcome =
  | { kind: 'found'; bytes: Buffer }
  | { kind: 'missing' }
  | { kind: 'problem'; code: string; message: string; stop: boolean };

/**
 * Reads GPG simple-signing signatures from a lookaside store, the layout containers/image
 * uses: `<base>/<repository>@<algorithm>=<hex>/signature-1`, `-2`, ... up to the first one
 * that is missing. `file:` bases are read from disk. `http:` and `https:` bases are fetched
 * from their own origin only: a redirect is not followed and stops the walk.
 *
 * Throws a retryable {@link SignatureJobError} when an HTTP store returns 5xx or 429, times
 * out or cannot be reached; other failures become problems.
 */
export async function readLookasideSignatures(
  base: string,
  repository: string,
  digest: string,
  limits: LookasideLimits,
): Promise<LookasideResult> {
  const separator = digest.indexOf(':');
  const directory = `${base}/${repository}@${digest.slice(0, separator)}=${digest.slice(separator + 1)}`;
  const baseUrl = new URL(base);
  const signatures: LookasideSignature[] = [];
  const problems: DiscoveryProblem[] = [];

  for (let index = 1; index <= limits.maxSignatures; index += 1) {
    const url = new URL(`${directory}/signature-${index}`);
    const source = `lookaside:signature-${index}`;
    const outcome =
      baseUrl.protocol === 'file:'
        ? await readFileSignature(url, limits.maxSignatureBytes)
        : await fetchSignature(url, baseUrl, limits);
    if (outcome.kind === 'missing') return { signatures, problems };
    if (outcome.kind === 'found') {
      signatures.push({ index, bytes: outcome.bytes });
      continue;
    }
    problems.push({ code: outcome.code, message: outcome.message, source });
    if (outcome.stop) return { signatures, problems };
  }

  problems.push({
    code: 'too-many-signatures',
    message: `stopped after ${limits.maxSignatures} lookaside signatures; further ones were not read`,
    source: 'lookaside',
  });
  return { signatures, problems };
}

async function readFileSignature(url: URL, maxBytes: number): Promise<ReadOutcome> {
  let handle;
  try {
    handle = await open(fileURLToPath(url), 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    return {
      kind: 'problem',
      code: 'lookaside-unreadable',
      message: `cannot open ${describeUrl(url)}: ${(error as Error).message}`,
      stop: true,
    };
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      return {
        kind: 'problem',
        code: 'lookaside-unreadable',
        message: `${describeUrl(url)} is not a regular file`,
        stop: true,
      };
    }
    if (stats.size > maxBytes) return tooLarge(url, `${stats.size} bytes`, maxBytes);
    // Reads until end of file rather than trusting stat(), so that a file growing meanwhile is
    // still bounded.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, total);
      if (bytesRead === 0) break;
      total += bytesRead;
      chunks.push(chunk.subarray(0, bytesRead));
      if (total > maxBytes) return tooLarge(url, `more than ${maxBytes} bytes`, maxBytes);
    }
    return { kind: 'found', bytes: Buffer.concat(chunks, total) };
  } catch (error) {
    return {
      kind: 'problem',
      code: 'lookaside-unreadable',
      message: `cannot read ${describeUrl(url)}: ${(error as Error).message}`,
      stop: true,
    };
  } finally {
    await handle.close();
  }
}

async function fetchSignature(
  url: URL,
  baseUrl: URL,
  limits: LookasideLimits,
): Promise<ReadOutcome> {
  if (url.origin !== baseUrl.origin) {
    return {
      kind: 'problem',
      code: 'lookaside-origin-rejected',
      message: `${describeUrl(url)} is not on the lookaside origin ${baseUrl.origin}`,
      stop: true,
    };
  }

  let response: Response;
  try {
    response = await fetch(url, {
      redirect: 'manual',
      signal: AbortSignal.timeout(limits.timeoutMs),
    });
  } catch (error) {
    throw unavailable(url, (error as Error).message, error);
  }

  if (response.status === 404 || response.status === 410) {
    await response.body?.cancel();
    return { kind: 'missing' };
  }
  if (response.status === 429 || response.status >= 500) {
    await response.body?.cancel();
    throw unavailable(url, `HTTP ${response.status}`);
  }
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    return {
      kind: 'problem',
      code: 'lookaside-redirect-rejected',
      message: `${describeUrl(url)} redirects (HTTP ${response.status}); signatures are read from ${baseUrl.origin} only`,
      stop: true,
    };
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    return {
      kind: 'problem',
      code: 'lookaside-request-failed',
      message: `GET ${describeUrl(url)} returned HTTP ${response.status}`,
      stop: true,
    };
  }

  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limits.maxSignatureBytes) {
    await response.body?.cancel();
    return tooLarge(url, `${declared} bytes`, limits.maxSignatureBytes);
  }
  try {
    const bytes = await readBounded(response, limits.maxSignatureBytes);
    return bytes === undefined
      ? tooLarge(url, `more than ${limits.maxSignatureBytes} bytes`, limits.maxSignatureBytes)
      : { kind: 'found', bytes };
  } catch (error) {
    throw unavailable(url, `reading the body failed: ${(error as Error).message}`, error);
  }
}

/** Reads a response body, or returns undefined as soon as it exceeds `maxBytes`. */
async function readBounded(response: Response, maxBytes: number): Promise<Buffer | undefined> {
  if (response.body === null) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks, total);
}

/** Builds the problem for a signature over the size limit; the walk continues with the next index. */
function tooLarge(url: URL, size: string, maxBytes: number): ReadOutcome {
  return {
    kind: 'problem',
    code: 'signature-too-large',
    message: `${describeUrl(url)} has ${size}, more than the limit of ${maxBytes} bytes; it was not read`,
    stop: false,
  };
}

function unavailable(url: URL, detail: string, cause?: unknown): SignatureJobError {
  return new SignatureJobError(
    'lookaside-unavailable',
    `Lookaside signature ${describeUrl(url)} could not be read (${detail}); the job will retry.`,
    true,
    { cause },
  );
}

/** Formats a URL for messages without user info, query or fragment. */
function describeUrl(url: URL): string {
  return url.protocol === 'file:' ? url.pathname : `${url.origin}${url.pathname}`;
}
