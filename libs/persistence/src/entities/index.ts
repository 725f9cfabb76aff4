import { ApiKeyEntity } from './api-key.entity';
import { BaseEdgeEntity } from './base-edge.entity';
import { FindingEntity } from './finding.entity';
import { FreshnessEntity } from './freshness.entity';
import { ImageSignatureEntity } from './image-signature.entity';
import { ImageEntity } from './image.entity';
import { IndexChildEntity } from './index-child.entity';
import { RepositoryImageEntity } from './repository-image.entity';
import { SignatureVerdictEntity } from './signature-verdict.entity';
import { TagHistoryEntity } from './tag-history.entity';
import { TagEntity } from './tag.entity';
import { TrackedBaseTagEntity } from './tracked-base-tag.entity';
import { TrustPolicyEntity } from './trust-policy.entity';
import { WebhookDeliveryEntity } from './webhook-delivery.entity';

export * from './api-key.entity';
export * from './base-edge.entity';
export * from './finding.entity';
export * from './freshness.entity';
export * from './image-signature.entity';
export * from './image.entity';
export * from './index-child.entity';
export * from './repository-image.entity';
export * from './signature-verdict.entity';
export * from './tag-history.entity';
export * from './tag.entity';
export * from './tracked-base-tag.entity';
export * from './trust-policy.entity';
export * from './webhook-delivery.entity';

export const ENTITIES = [
  ApiKeyEntity,
  BaseEdgeEntity,
  FindingEntity,
  FreshnessEntity,
  ImageEntity,
  ImageSignatureEntity,
  IndexChildEntity,
  RepositoryImageEntity,
  SignatureVerdictEntity,
  TagEntity,
  TagHistoryEntity,
  TrackedBaseTagEntity,
  TrustPolicyEntity,
  WebhookDeliveryEntity,
];
