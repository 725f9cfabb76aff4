import { isDigest, isManifestMediaType, isValidRepository, isValidTag } from '@app/oci';

/** Content types CNCF Distribution (v1 and v3) and GitLab's registry send. */
export const WEBHOOK_MEDIA_TYPES = [
  'application/vnd.docker.distribution.events.v1+json',
  'application/vnd.docker.distribution.events.v2+json',
  'application/json',
];

/** Maximum events one delivery may carry; registries send one or a few. */
export const MAX_EVENTS_PER_DELIVERY = 1000;

export interface ManifestEvent {
  eventId: string;
  action: 'push' | 'delete';
  repository: string;
  tag: string | null;
  digest: string | null;
  mediaType: string | null;
  eventTime: Date | null;
  requestId: string | null;
}

export type EventClassification =
  | { kind: 'relevant'; event: ManifestEvent }
  | { kind: 'ignored'; action: string; reason: string }
  | { kind: 'rejected'; action: string; reason: string };

export class EnvelopeError extends Error {}

/** Returns the events array of a notification envelope, or throws EnvelopeError. */
export function readEnvelope(body: unknown): unknown[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new EnvelopeError('The body must be a JSON object with an "events" array.');
  }
  const events = (body as { events?: unknown }).events;
  if (!Array.isArray(events)) {
    throw new EnvelopeError('The body must be a JSON object with an "events" array.');
  }
  if (events.length > MAX_EVENTS_PER_DELIVERY) {
    throw new EnvelopeError(`A delivery may carry at most ${MAX_EVENTS_PER_DELIVERY} events.`);
  }
  return events;
}

/**
 * Sorts one event into work (manifest pushes and deletes) and noise (pulls, mounts, blob
 * uploads, unknown actions). Events with malformed fields are rejected individually, so one bad
 * event does not make the registry retry the whole delivery forever.
 */
export function classifyEvent(raw: unknown): EventClassification {
  if (typeof raw !== 'object' || raw === null) {
    return { kind: 'rejected', action: 'unknown', reason: 'event is not an object' };
  }
  const event = raw as Record<string, unknown>;
  const action = typeof event.action === 'string' ? event.action : 'unknown';
  const target = (event.target ?? {}) as Record<string, unknown>;
  const request = (event.request ?? {}) as Record<string, unknown>;

  if (action !== 'push' && action !== 'delete') {
    return {
      kind: 'ignored',
      action,
      reason: action === 'pull' || action === 'mount' ? action : 'unknown-action',
    };
  }
  const mediaType = typeof target.mediaType === 'string' ? target.mediaType : null;
  if (action === 'push' && (!mediaType || !isManifestMediaType(mediaType))) {
    return { kind: 'ignored', action, reason: 'not-a-manifest' };
  }

  const eventId = typeof event.id === 'string' ? event.id : '';
  if (!eventId || eventId.length > 200) {
    return { kind: 'rejected', action, reason: 'missing or invalid event id' };
  }
  const repository = typeof target.repository === 'string' ? target.repository : '';
  if (!isValidRepository(repository)) {
    return { kind: 'rejected', action, reason: `invalid repository "${repository.slice(0, 100)}"` };
  }
  const digest = typeof target.digest === 'string' && target.digest ? target.digest : null;
  if (digest !== null && !isDigest(digest)) {
    return { kind: 'rejected', action, reason: `invalid digest "${digest.slice(0, 100)}"` };
  }
  const tag = typeof target.tag === 'string' && target.tag ? target.tag : null;
  if (tag !== null && !isValidTag(tag)) {
    return { kind: 'rejected', action, reason: `invalid tag "${tag.slice(0, 130)}"` };
  }
  if (action === 'push' && digest === null) {
    return { kind: 'rejected', action, reason: 'manifest push without a digest' };
  }
  if (action === 'delete' && digest === null && tag === null) {
    return { kind: 'rejected', action, reason: 'delete without a digest or a tag' };
  }

  const timestamp = typeof event.timestamp === 'string' ? new Date(event.timestamp) : null;
  return {
    kind: 'relevant',
    event: {
      eventId,
      action,
      repository,
      tag,
      digest,
      mediaType,
      eventTime: timestamp && !Number.isNaN(timestamp.getTime()) ? timestamp : null,
      requestId: typeof request.id === 'string' ? request.id.slice(0, 200) : null,
    },
  };
}
