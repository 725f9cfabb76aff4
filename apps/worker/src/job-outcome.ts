import { UnrecoverableError } from 'bullmq';

import { OciError } from '@app/oci';
import { RegistryError } from '@app/registry-client';

/** Tells whether a retry cannot fix the failure: bad content, a missing manifest, rejected credentials. */
export function isPermanentFailure(error: unknown): boolean {
  if (error instanceof UnrecoverableError) return true;
  if (error instanceof OciError) return true;
  if (error instanceof RegistryError) return !error.retryable;
  return false;
}

export function errorCode(error: unknown): string {
  if (error instanceof OciError || error instanceof RegistryError) return error.code;
  return 'internal-error';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
