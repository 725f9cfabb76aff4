export { RegistryClient } from './registry-client';
export { RegistryError, isRetryableCode } from './errors';
export type { RegistryErrorCode } from './errors';
export { DEFAULT_USER_AGENT } from './options';
export type { RegistryClientOptions, RegistryCredentials, RegistryRequestInfo } from './options';
export type { FetchedManifest, ManifestHead } from './types';
export { referrersTagFor } from './names';
