import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';

import { ServiceMetrics } from '@app/common';

const VERIFICATIONS_METRIC = 'provenance_signature_verifications_total';

/** Signature metrics of the worker, registered on the worker's ServiceMetrics registry. */
@Injectable()
export class SignatureMetrics {
  /** Signatures judged per verification job, by stored format and result. */
  readonly verifications: Counter<'format' | 'result'>;

  constructor(metrics: ServiceMetrics) {
    // A second module instance on the same registry reuses the counter rather than failing.
    const existing = metrics.registry.getSingleMetric(VERIFICATIONS_METRIC);
    this.verifications =
      (existing as Counter<'format' | 'result'> | undefined) ??
      new Counter({
        name: VERIFICATIONS_METRIC,
        help: 'Signatures judged by verification jobs, by format (cosign, sigstore-bundle, notation, gpg) and result (valid, invalid, untrusted, identity-mismatch, error, not-checked).',
        labelNames: ['format', 'result'] as const,
        registers: [metrics.registry],
      });
  }
}
