import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';

import {
  DomainError,
  DomainErrorCode,
  ROOT_LOGGER,
  secretsEqual,
  ServiceMetrics,
} from '@app/common';
import { APP_CONFIG, AppConfig, findRegistryByName, RegistryConfig } from '@app/config';

import {
  classifyEvent,
  EnvelopeError,
  ManifestEvent,
  readEnvelope,
  WEBHOOK_MEDIA_TYPES,
} from './distribution-events';
import { OutboxBatcher } from './outbox-batcher.service';

export interface WebhookReceipt {
  accepted: number;
  duplicates: number;
  ignored: number;
  rejected: number;
  deliveries: string[];
  rejections: string[];
}

export interface IncomingWebhook {
  registry: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: Buffer;
  requestId: string;
}

@Injectable()
export class WebhooksService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly outbox: OutboxBatcher,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly metrics: ServiceMetrics,
  ) {}

  /**
   * Stores every relevant event as an outbox row, then enqueues its job. The registry is never
   * contacted here; a job that fails to enqueue is picked up later by the outbox sweeper.
   */
  async receive(webhook: IncomingWebhook): Promise<WebhookReceipt> {
    const registry = this.authenticate(webhook);
    const events = this.parse(webhook);

    const receipt: WebhookReceipt = {
      accepted: 0,
      duplicates: 0,
      ignored: 0,
      rejected: 0,
      deliveries: [],
      rejections: [],
    };
    const relevant: ManifestEvent[] = [];
    for (const raw of events) {
      const classified = classifyEvent(raw);
      if (classified.kind === 'relevant') {
        relevant.push(classified.event);
        continue;
      }
      this.metrics.webhookEvents.inc({
        registry: registry.name,
        action: classified.action,
        outcome: classified.kind,
      });
      if (classified.kind === 'ignored') {
        receipt.ignored += 1;
      } else {
        receipt.rejected += 1;
        receipt.rejections.push(classified.reason);
        this.logger.warn(
          { registry: registry.name, requestId: webhook.requestId, reason: classified.reason },
          'webhook event rejected',
        );
      }
    }

    const stored = await this.outbox.store(registry.name, relevant);
    receipt.accepted = stored.length;
    receipt.duplicates = relevant.length - stored.length;
    receipt.deliveries = stored.map((row) => row.id);
    for (const event of relevant) {
      const outcome = stored.some((row) => row.eventId === event.eventId)
        ? 'accepted'
        : 'duplicate';
      this.metrics.webhookEvents.inc({ registry: registry.name, action: event.action, outcome });
    }

    return receipt;
  }

  private authenticate(webhook: IncomingWebhook): RegistryConfig {
    const registry = findRegistryByName(this.config, webhook.registry);
    if (!registry) {
      throw new DomainError(
        DomainErrorCode.NotFound,
        `Registry "${webhook.registry}" is not configured.`,
      );
    }
    const match = webhook.authorization ? /^Bearer\s+(\S+)$/i.exec(webhook.authorization) : null;
    const presented = match?.[1] ?? '';
    // Every configured token is compared so that timing does not reveal which one matched.
    let valid = false;
    for (const token of registry.webhookTokens) {
      if (secretsEqual(presented, token)) valid = true;
    }
    if (!valid) {
      throw new DomainError(
        DomainErrorCode.Unauthorized,
        `Missing or wrong webhook token for registry "${registry.name}".`,
      );
    }
    return registry;
  }

  private parse(webhook: IncomingWebhook): unknown[] {
    const contentType = (webhook.contentType ?? '').split(';')[0].trim().toLowerCase();
    if (!WEBHOOK_MEDIA_TYPES.includes(contentType)) {
      throw new DomainError(
        DomainErrorCode.UnsupportedMediaType,
        `Unsupported content type "${contentType || '(none)'}"; expected one of ${WEBHOOK_MEDIA_TYPES.join(', ')}.`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(webhook.body.toString('utf8'));
    } catch {
      throw new DomainError(DomainErrorCode.BadRequest, 'The webhook body is not valid JSON.');
    }
    try {
      return readEnvelope(body);
    } catch (error) {
      if (error instanceof EnvelopeError)
        throw new DomainError(DomainErrorCode.BadRequest, error.message);
      throw error;
    }
  }
}
