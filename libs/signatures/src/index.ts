export * from './errors';
export * from './types';
export * from './policy-types';
export { parseDockerReference, formatReference, formatRepository } from './reference';
export type { ImageReference } from './reference';
export { sha256Digest, isSupportedDigest } from './digest';
export { parseStrictJson } from './strict-json';
export type { JsonValue, JsonObject } from './strict-json';
export {
  parseSimpleSigningPayload,
  COSIGN_PAYLOAD_TYPE,
  ATOMIC_PAYLOAD_TYPE,
} from './simple-signing';
export type { SimpleSigningClaims } from './simple-signing';
export { parsePublicKeyPem, publicKeyFingerprint, verifyRawSignature } from './keys';
export type { RsaPadding, RawSignatureOptions } from './keys';
export { matchSignedIdentity } from './identity';
export { policyForScope, scopeCandidates, validateTrustPolicy } from './policy';
export type { ScopedRequirements } from './policy';
export { DEFAULT_LIMITS } from './limits';
export type { VerificationLimits } from './limits';
export {
  verifyCosignSignature,
  verifyCosignCandidate,
  COSIGN_SIGNATURE_ANNOTATION,
  COSIGN_CERTIFICATE_ANNOTATION,
  COSIGN_CHAIN_ANNOTATION,
  COSIGN_BUNDLE_ANNOTATION,
} from './cosign';
export { verifyCosignKeyless } from './cosign-keyless';
export type { CosignKeylessMaterial } from './cosign-keyless';
export { verifyGpgSignature, readGpgKeyring } from './gpg';
export { verifyImageSignatures } from './verify';
export type { VerifyImageInput } from './verify';
export type { FormatVerification } from './format-result';
export { verifyNotarySignature, NOTARY_PAYLOAD_MEDIA_TYPE } from './notary';
export {
  verifySigstoreBundle,
  identityMatches,
  trustedRootOf,
  COSIGN_SIGN_PREDICATE_TYPE,
} from './sigstore-bundle';
export {
  parseCertificate,
  parseCertificatesPem,
  verifyCodeSigningChain,
  subjectMatches,
  parseDistinguishedName,
} from './x509';
export type { ParsedCertificate } from './x509';
export { parsePolicyJson, exportPolicyJson } from './policy-json';
export type { PolicyImport, PolicyExport, PolicyFileReader } from './policy-json';
export {
  runVerifyCommand,
  EXIT_VERIFIED,
  EXIT_NOT_VERIFIED,
  EXIT_USAGE,
} from './cli/verify-command';
export type {
  VerifyCommandOptions,
  VerifyCommandIo,
  VerifyCommandFormat,
} from './cli/verify-command';
