import {
  parseCertificatesPem,
  parsePublicKeyPem,
  PolicyRequirement,
  readGpgKeyring,
  SignatureError,
  TrustAnchor,
  trustedRootOf,
  TrustPolicy,
} from '@app/signatures';

import { FieldIssue, formatFieldPath, invalidFields } from './trust-policy.schema';

/**
 * Parses the key material of every trust anchor (PEM public keys, OpenPGP keyrings, X.509 roots,
 * Sigstore trusted roots and Rekor keys), so that a policy the worker could never use is
 * rejected when it is saved. Throws a 400 DomainError naming each anchor that failed.
 */
export async function assertTrustMaterial(policy: TrustPolicy, field: string): Promise<void> {
  const issues: FieldIssue[] = [];
  const lists: Array<[Array<string | number>, PolicyRequirement[]]> = [
    [[field, 'default'], policy.default],
    ...Object.entries(policy.scopes).map(
      ([scope, requirements]): [Array<string | number>, PolicyRequirement[]] => [
        [field, 'scopes', scope],
        requirements,
      ],
    ),
  ];
  for (const [path, requirements] of lists) {
    for (const [index, requirement] of requirements.entries()) {
      if (requirement.type !== 'signedBy') continue;
      for (const [anchorIndex, anchor] of requirement.anchors.entries()) {
        const issue = await checkAnchor(anchor);
        if (issue === undefined) continue;
        issues.push({
          field: formatFieldPath([...path, index, 'anchors', anchorIndex, ...issue.subpath]),
          message: issue.message,
        });
      }
    }
  }
  if (issues.length > 0) throw invalidFields(issues);
}

/** An unusable part of an anchor: its path below the anchor and the reason. */
interface AnchorIssue {
  subpath: Array<string | number>;
  message: string;
}

/** Returns why the anchor's material cannot be used, or undefined when it parses. */
async function checkAnchor(anchor: TrustAnchor): Promise<AnchorIssue | undefined> {
  // The library messages start with the description given here, and the field path is
  // reported next to them, so the description stays generic.
  const described = 'the value';
  let subpath: Array<string | number> = [];
  try {
    switch (anchor.kind) {
      case 'publicKey':
        subpath = ['publicKeyPem'];
        parsePublicKeyPem(anchor.publicKeyPem, described);
        break;
      case 'gpgKeys':
        subpath = ['keyring'];
        await readGpgKeyring(anchor.keyring, described);
        break;
      case 'x509Roots':
        subpath = ['rootsPem'];
        parseCertificatesPem(anchor.rootsPem, described);
        break;
      case 'sigstore':
        for (const [index, pem] of (anchor.rekorPublicKeysPem ?? []).entries()) {
          subpath = ['rekorPublicKeysPem', index];
          parsePublicKeyPem(pem, described);
        }
        subpath = [anchor.trustedRootJson !== undefined ? 'trustedRootJson' : 'fulcioCaPem'];
        if (trustedRootOf(anchor).certificateAuthorities.length === 0) {
          return { subpath, message: 'the trusted root lists no certificate authority' };
        }
        break;
    }
  } catch (error) {
    if (error instanceof SignatureError) return { subpath, message: error.message };
    // trustedRootOf reports JSON syntax errors and invalid protobuf fields with plain Errors.
    if (error instanceof Error) {
      return { subpath, message: `the value is not a valid trusted root: ${error.message}` };
    }
    throw error;
  }
  return undefined;
}
