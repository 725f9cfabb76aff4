import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';

import { APP_CONFIG, AppConfig, findRegistryByName, RegistryConfig } from '@app/config';
import {
  DEFAULT_LIMITS,
  SignatureCandidate,
  SignatureCheck,
  verifyImageSignatures,
} from '@app/signatures';

import type { DiscoveryProblem } from './lookaside-reader';
import { signatureFingerprint, storedFormat } from './signature-candidates';
import { RepositorySignatures, SignatureDiscoveryService } from './signature-discovery.service';
import { SignatureMetrics } from './signature-metrics';
import { SignatureSchedulerService } from './signature-scheduler.service';
import {
  ImageToVerify,
  Presence,
  SignatureRow,
  SignatureStoreService,
} from './signature-store.service';
import { ActivePolicy, TrustPolicyService } from './trust-policy.service';
import { combineVerdicts, preferredCheck, ReferenceVerdict } from './verdict-summary';

/**
 * Maximum tags verified per repository, because each tag is one policy evaluation over every
 * signature. A `too-many-tags` reason names the last tag verified.
 */
export const MAX_TAGS_PER_REPOSITORY = 32;

export interface VerificationOutcome {
  status: 'done' | 'skipped';
  detail: string;
}

/** A signature found in this job, with the most telling check made of it. */
interface FoundSignature {
  candidate: SignatureCandidate;
  fingerprint: string;
  check?: SignatureCheck;
}

/** State shared by the repositories of one job. */
interface JobState {
  image: ImageToVerify;
  policy: ActivePolicy;
  startedAt: Date;
  logger: Logger;
  found: Map<string, FoundSignature>;
  /**
   * Verdicts to store once the signatures are stored, so that a reader who sees a verdict also
   * sees the signatures it was made from.
   */
  verdicts: Array<() => Promise<void>>;
  /** Manifest bytes, fetched once when a Sigstore bundle needs them. */
  manifest?: Promise<Buffer | undefined>;
}

/**
 * Verifies the signatures of one manifest digest in every repository that contains it, under the
 * newest trust policy, and stores one verdict per repository and every signature found. An
 * index is judged by its own signatures; its platform manifests get their own jobs.
 */
@Injectable()
export class SignatureVerificationService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: SignatureStoreService,
    private readonly policies: TrustPolicyService,
    private readonly discovery: SignatureDiscoveryService,
    private readonly scheduler: SignatureSchedulerService,
    private readonly metrics: SignatureMetrics,
  ) {}

  async verify(digest: string, cause: string, logger: Logger): Promise<VerificationOutcome> {
    const startedAt = new Date();
    const image = await this.store.findImage(digest);
    if (image === undefined) {
      return { status: 'skipped', detail: `${digest} is not an ingested manifest.` };
    }
    const presences = await this.store.presences(digest);
    if (presences.length === 0) {
      await this.store.removeStaleVerdicts(digest, startedAt);
      return { status: 'skipped', detail: `No repository contains ${digest} any more.` };
    }

    const state: JobState = {
      image,
      policy: await this.policies.current(),
      startedAt,
      logger,
      found: new Map(),
      verdicts: [],
    };
    const verdicts: string[] = [];
    let complete = true;
    for (const presence of presences) {
      const result = await this.verifyInRepository(state, presence);
      complete &&= result?.complete ?? false;
      if (result) verdicts.push(`${presence.registry}/${presence.repository} ${result.status}`);
    }

    await this.saveSignatures(state, complete);
    for (const saveVerdict of state.verdicts) await saveVerdict();
    await this.store.removeStaleVerdicts(digest, startedAt);
    if (image.kind === 'index') {
      await this.scheduler.verify(await this.store.childrenOf(digest), cause);
    }
    return {
      status: 'done',
      detail: `Verified ${digest} under policy version ${state.policy.version ?? 'none'}: ${verdicts.join(', ') || 'no configured registry'}; ${state.found.size} signatures.`,
    };
  }

  /**
   * Verifies the digest under each of its tags in one repository and stores the combined
   * verdict. Returns undefined when the presence's registry is no longer configured.
   */
  private async verifyInRepository(
    state: JobState,
    presence: Presence,
  ): Promise<{ status: string; complete: boolean } | undefined> {
    const { image, logger } = state;
    const registry = findRegistryByName(this.config, presence.registry);
    if (registry === undefined) {
      logger.warn(
        { digest: image.digest, registry: presence.registry, repository: presence.repository },
        'registry of a repository containing the image is not configured; its verdict was not updated',
      );
      return undefined;
    }

    const discovered = await this.discovery.discover(
      registry,
      presence.repository,
      image.digest,
      DEFAULT_LIMITS,
    );
    const fingerprints = this.recordFound(state, discovered.candidates);
    const problems: DiscoveryProblem[] = [...discovered.problems];
    const tags = await this.store.tagsOf(presence, image.digest, MAX_TAGS_PER_REPOSITORY + 1);
    if (tags.length > MAX_TAGS_PER_REPOSITORY) {
      tags.length = MAX_TAGS_PER_REPOSITORY;
      problems.push({
        code: 'too-many-tags',
        message: `only the first ${MAX_TAGS_PER_REPOSITORY} tags by name were verified, up to ${tags[tags.length - 1]}`,
        source: 'tags',
      });
    }

    const evaluations = await this.evaluate(state, registry, presence, discovered, tags);
    for (const { verdict } of evaluations) {
      for (const check of verdict.checks) {
        const entry = state.found.get(fingerprints.get(check.source) ?? '');
        if (entry) entry.check = preferredCheck(entry.check, check);
      }
    }

    const combined = combineVerdicts(evaluations, problems);
    state.verdicts.push(() =>
      this.store.saveVerdict(
        image.digest,
        presence,
        combined,
        state.policy.version,
        state.startedAt,
      ),
    );
    this.warnAboutInvalid(image.digest, presence, evaluations, logger);
    return { status: combined.status, complete: discovered.problems.length === 0 };
  }

  /** Runs the policy once per tag, or once by digest when the repository has no tag for it. */
  private async evaluate(
    state: JobState,
    registry: RegistryConfig,
    presence: Presence,
    discovered: RepositorySignatures,
    tags: readonly string[],
  ): Promise<ReferenceVerdict[]> {
    const { image } = state;
    const needsManifest = discovered.candidates.some((entry) => entry.format === 'sigstore-bundle');
    if (needsManifest) {
      state.manifest ??= this.discovery.fetchManifest(registry, presence.repository, image.digest);
    }
    const manifest = needsManifest ? await state.manifest : undefined;
    // Policy scopes and signed references name the host users pull from, not the registry name.
    const host = registry.hosts[0] ?? new URL(registry.url).host;

    const evaluations: ReferenceVerdict[] = [];
    for (const tag of tags.length > 0 ? tags : [undefined]) {
      const verdict = await verifyImageSignatures({
        digest: image.digest,
        size: image.size,
        mediaType: image.mediaType,
        ...(manifest !== undefined && { manifest }),
        reference: {
          registry: host,
          repository: presence.repository,
          ...(tag !== undefined && { tag }),
        },
        candidates: discovered.candidates,
        policy: state.policy.policy,
        limits: DEFAULT_LIMITS,
      });
      discovered.throwIfBlobReadsFailed();
      evaluations.push({ tag, verdict });
    }
    return evaluations;
  }

  /** Adds new signatures to the job's list and maps each candidate source to its fingerprint. */
  private recordFound(
    state: JobState,
    candidates: readonly SignatureCandidate[],
  ): Map<string, string> {
    const bySource = new Map<string, string>();
    for (const candidate of candidates) {
      const fingerprint = signatureFingerprint(candidate);
      bySource.set(candidate.source, fingerprint);
      if (!state.found.has(fingerprint)) state.found.set(fingerprint, { candidate, fingerprint });
    }
    return bySource;
  }

  private warnAboutInvalid(
    digest: string,
    presence: Presence,
    evaluations: readonly ReferenceVerdict[],
    logger: Logger,
  ): void {
    const logged = new Set<string>();
    for (const { tag, verdict } of evaluations) {
      for (const check of verdict.checks) {
        const key = `${check.source}\n${check.reasonCode}`;
        if (check.result !== 'invalid' || logged.has(key)) continue;
        logged.add(key);
        logger.warn(
          {
            digest,
            registry: presence.registry,
            repository: presence.repository,
            tag,
            format: storedFormat(check.format),
            source: check.source,
            reasonCode: check.reasonCode,
            reason: check.reason,
          },
          'invalid signature',
        );
      }
    }
  }

  /**
   * Stores every signature found and counts it. When every source responded, signatures that
   * an earlier job stored and this one did not find are deleted.
   */
  private async saveSignatures(state: JobState, complete: boolean): Promise<void> {
    const rows = [...state.found.values()].map((entry) => signatureRow(state, entry));
    await this.store.saveSignatures(rows);
    if (complete) {
      await this.store.removeMissingSignatures(
        state.image.digest,
        rows.map((row) => row.fingerprint),
        state.startedAt,
      );
    }
    for (const row of rows) {
      this.metrics.verifications.inc({ format: row.format, result: row.result });
    }
  }
}

function signatureRow(state: JobState, entry: FoundSignature): SignatureRow {
  const base = {
    digest: state.image.digest,
    format: storedFormat(entry.candidate.format),
    source: entry.candidate.source,
    fingerprint: entry.fingerprint,
    policyVersion: state.policy.version,
    checkedAt: state.startedAt,
  };
  const check = entry.check;
  if (check === undefined) {
    return {
      ...base,
      result: 'not-checked',
      reasonCode: 'not-checked',
      reason:
        'the policy scopes that apply to this image require no signature, so none was checked',
      signer: {},
      signedDigest: null,
      dockerReference: null,
    };
  }
  return {
    ...base,
    result: check.result,
    reasonCode: check.reasonCode,
    reason: check.reason,
    signer: check.signer ?? {},
    signedDigest: check.signedDigest ?? null,
    dockerReference: check.dockerReference ?? null,
  };
}
