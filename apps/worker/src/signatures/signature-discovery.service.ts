import { Injectable } from '@nestjs/common';

import { RegistryConfig } from '@app/config';
import { Descriptor, ImageManifest, OciError, parseManifest } from '@app/oci';
import { RegistryClient, RegistryError } from '@app/registry-client';
import { LazyBlob, SignatureCandidate, VerificationLimits } from '@app/signatures';

import { RegistryClientsService } from '../registry-clients.service';
import { SignatureJobError } from './errors';
import { DiscoveryProblem, readLookasideSignatures } from './lookaside-reader';
import {
  cosignCandidates,
  cosignSignatureTag,
  isSignatureArtifactType,
  referrerCandidates,
} from './signature-candidates';

/** Time for one lookaside HTTP request, body included. */
const LOOKASIDE_TIMEOUT_MS = 15_000;

/** Signatures found for a digest in one repository. */
export interface RepositorySignatures {
  candidates: SignatureCandidate[];
  /** Permanent failures of single sources; transient ones throw instead. */
  problems: DiscoveryProblem[];
  /**
   * Throws a retryable {@link SignatureJobError} when a blob read that verification triggered
   * failed with a transient registry error. Verification records such a read as an `error`
   * check, so without this call the job would store that instead of retrying.
   */
  throwIfBlobReadsFailed(): void;
}

/**
 * Finds the signatures of a digest in one repository of the configured registry: the cosign
 * `sha256-<hex>.sig` tag, OCI 1.1 referrers (Sigstore bundles, Notary signatures, cosign
 * simple-signing artifacts) and, when configured, the GPG lookaside store. Blobs are read
 * lazily, within the limits, when verification needs them.
 */
@Injectable()
export class SignatureDiscoveryService {
  constructor(private readonly registries: RegistryClientsService) {}

  async discover(
    registry: RegistryConfig,
    repository: string,
    digest: string,
    limits: VerificationLimits,
  ): Promise<RepositorySignatures> {
    const client = this.registries.get(registry.name);
    const blobs = new RegistryBlobs(client, repository);
    const problems: DiscoveryProblem[] = [];
    const candidates: SignatureCandidate[] = [];
    const remaining = () => limits.maxSignatures - candidates.length;

    candidates.push(...(await this.fromCosignTag(client, repository, digest, blobs, problems)));
    candidates.push(
      ...(await this.fromReferrers(client, repository, digest, blobs, problems, remaining())),
    );
    if (registry.lookaside !== undefined) {
      if (remaining() > 0) {
        candidates.push(
          ...(await this.fromLookaside(
            registry.lookaside,
            repository,
            digest,
            limits,
            remaining(),
            problems,
          )),
        );
      } else {
        problems.push(limitReached('lookaside', limits.maxSignatures));
      }
    }

    if (candidates.length > limits.maxSignatures) {
      problems.push(limitReached('signatures', limits.maxSignatures));
      candidates.length = limits.maxSignatures;
    }
    return { candidates, problems, throwIfBlobReadsFailed: () => blobs.throwIfFailed() };
  }

  /**
   * Fetches the manifest bytes of the digest, which message-signature bundles sign. Returns
   * undefined when the registry no longer has them or refuses them for good.
   */
  async fetchManifest(
    registry: RegistryConfig,
    repository: string,
    digest: string,
  ): Promise<Buffer | undefined> {
    try {
      return (await this.registries.get(registry.name).getManifest(repository, digest)).bytes;
    } catch (error) {
      if (error instanceof RegistryError && !error.retryable) return undefined;
      throw error;
    }
  }

  private async fromCosignTag(
    client: RegistryClient,
    repository: string,
    digest: string,
    blobs: RegistryBlobs,
    problems: DiscoveryProblem[],
  ): Promise<SignatureCandidate[]> {
    const tag = cosignSignatureTag(digest);
    if (tag === undefined) return [];
    const source = `tag:${tag}`;
    const manifest = await fetchSignatureManifest(client, repository, tag, source, problems);
    return manifest ? cosignCandidates(manifest, source, blobs.open) : [];
  }

  private async fromReferrers(
    client: RegistryClient,
    repository: string,
    digest: string,
    blobs: RegistryBlobs,
    problems: DiscoveryProblem[],
    budget: number,
  ): Promise<SignatureCandidate[]> {
    let descriptors: Descriptor[];
    try {
      // Unfiltered, so that one request (or one referrers tag) serves every signature format.
      descriptors = await client.listReferrers(repository, digest);
    } catch (error) {
      recordFailure(error, 'referrers', problems);
      return [];
    }

    const signatures = descriptors.filter((entry) => isSignatureArtifactType(entry.artifactType));
    const candidates: SignatureCandidate[] = [];
    for (const [position, descriptor] of signatures.entries()) {
      if (candidates.length >= budget) {
        problems.push(limitReached('referrers', budget, signatures.length - position));
        break;
      }
      const source = `referrer:${descriptor.digest}`;
      const manifest = await fetchSignatureManifest(
        client,
        repository,
        descriptor.digest,
        source,
        problems,
      );
      if (manifest === undefined) continue;
      // The referrers list is unauthenticated, so the manifest's own subject must name the image.
      if (manifest.subject?.digest !== digest) {
        problems.push({
          code: 'referrer-subject-mismatch',
          message: `referrer ${descriptor.digest} names subject ${manifest.subject?.digest ?? 'none'}, not ${digest}; it was ignored`,
          source,
        });
        continue;
      }
      candidates.push(...referrerCandidates(manifest, source, blobs.open));
    }
    return candidates;
  }

  // NOTE: writing a lookaside signature sends no registry event. A signature written after its
  // image was ingested (skopeo writes it after the manifest push) is found by the next
  // verification of the digest only: a signature push, a policy version or a requested check.
  private async fromLookaside(
    lookaside: string,
    repository: string,
    digest: string,
    limits: VerificationLimits,
    budget: number,
    problems: DiscoveryProblem[],
  ): Promise<SignatureCandidate[]> {
    const result = await readLookasideSignatures(lookaside, repository, digest, {
      maxSignatures: budget,
      maxSignatureBytes: limits.maxSignatureBytes,
      timeoutMs: LOOKASIDE_TIMEOUT_MS,
    });
    problems.push(...result.problems);
    return result.signatures.map((signature) => ({
      format: 'gpg' as const,
      source: `lookaside:signature-${signature.index}`,
      signature: signature.bytes,
    }));
  }
}

/**
 * Fetches and parses a manifest that carries signatures. Returns undefined when it does not
 * exist, and records a problem when it is not a valid image manifest.
 */
async function fetchSignatureManifest(
  client: RegistryClient,
  repository: string,
  reference: string,
  source: string,
  problems: DiscoveryProblem[],
): Promise<ImageManifest | undefined> {
  let fetched;
  try {
    fetched = await client.getManifest(repository, reference);
  } catch (error) {
    if (error instanceof RegistryError && error.code === 'not-found') return undefined;
    recordFailure(error, source, problems);
    return undefined;
  }

  try {
    const document = parseManifest(fetched.bytes, fetched.mediaType);
    if (document.kind === 'image') return document;
    problems.push({
      code: 'signature-manifest-invalid',
      message: `${source} is an index (${document.mediaType}), not a signature manifest`,
      source,
    });
  } catch (error) {
    if (!(error instanceof OciError)) throw error;
    problems.push({ code: 'signature-manifest-invalid', message: error.message, source });
  }
  return undefined;
}

/** Records a permanent registry failure as a problem; rethrows transient and unknown errors. */
function recordFailure(error: unknown, source: string, problems: DiscoveryProblem[]): void {
  if (!(error instanceof RegistryError) || error.retryable) throw error;
  problems.push({ code: 'signature-discovery-failed', message: error.message, source });
}

function limitReached(source: string, limit: number, skipped?: number): DiscoveryProblem {
  const detail = skipped === undefined ? '' : `; ${skipped} further referrers were not read`;
  return {
    code: 'too-many-signatures',
    message: `the limit of ${limit} signatures per repository was reached${detail}`,
    source,
  };
}

/** Lazy blob reads of one repository in one job; each blob is fetched at most once. */
class RegistryBlobs {
  private readonly failures: RegistryError[] = [];

  constructor(
    private readonly client: RegistryClient,
    private readonly repository: string,
  ) {}

  readonly open = (descriptor: Descriptor): LazyBlob => {
    let pending: Promise<Buffer> | undefined;
    return {
      declaredSize: descriptor.size,
      read: (maxBytes) => (pending ??= this.read(descriptor.digest, maxBytes)),
    };
  };

  throwIfFailed(): void {
    const [first] = this.failures;
    if (first === undefined) return;
    throw new SignatureJobError(
      'blob-unavailable',
      `Reading a signature blob from ${this.repository} failed: ${first.message} The job will retry.`,
      true,
      { cause: first },
    );
  }

  private async read(digest: string, maxBytes: number): Promise<Buffer> {
    try {
      // getBlob needs a positive limit; the verifier rejects a result of another length.
      return await this.client.getBlob(this.repository, digest, Math.max(1, maxBytes));
    } catch (error) {
      if (error instanceof RegistryError && error.retryable) this.failures.push(error);
      throw error;
    }
  }
}
