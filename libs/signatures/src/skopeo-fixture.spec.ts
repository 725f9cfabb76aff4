import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { runVerifyCommand } from './cli/verify-command';
import { sha256Digest } from './digest';
import { parseDockerReference } from './reference';
import type { TrustPolicy } from './policy-types';
import { verifyImageSignatures } from './verify';

// Written by test-fixtures/generate.sh with `skopeo copy --sign-by` to a local registry. The
// manifest file has no .json extension, so that formatters leave its bytes, and digest, alone.
const fixtures = join(__dirname, '..', 'test-fixtures', 'skopeo-copy');
const read = (name: string) => readFileSync(join(fixtures, name));

describe('skopeo copy --sign-by fixture', () => {
  const manifest = read('manifest');
  const signature = read('signature-1');
  const referenceText = read('reference').toString().trim();
  const fingerprint = read('fingerprint').toString().trim();
  const policy: TrustPolicy = {
    default: [
      {
        type: 'signedBy',
        anchors: [{ kind: 'gpgKeys', keyring: read('public-key.asc').toString() }],
      },
    ],
    scopes: {},
  };

  it('verifies with the signer fingerprint', async () => {
    const reference = parseDockerReference(referenceText);
    const verdict = await verifyImageSignatures({
      digest: sha256Digest(manifest),
      reference,
      manifest,
      candidates: [{ format: 'gpg', source: 'lookaside signature-1', signature }],
      policy,
    });
    expect(verdict.status).toBe('verified');
    expect(verdict.signers[0]?.keyFingerprint).toBe(fingerprint);
    expect(verdict.checks[0]?.dockerReference).toBe(referenceText);
  });

  it('rejects the signature for another tag', async () => {
    const reference = { ...parseDockerReference(referenceText), tag: 'v2' };
    const verdict = await verifyImageSignatures({
      digest: sha256Digest(manifest),
      reference,
      candidates: [{ format: 'gpg', source: 'lookaside signature-1', signature }],
      policy,
    });
    expect(verdict.status).toBe('untrusted');
    expect(verdict.checks[0]?.result).toBe('identity-mismatch');
  });

  it('verifies through the CLI command', async () => {
    const stdout: string[] = [];
    const code = await runVerifyCommand(
      {
        manifest: join(fixtures, 'manifest'),
        signature: join(fixtures, 'signature-1'),
        reference: referenceText,
        gpgKeyring: join(fixtures, 'public-key.asc'),
      },
      { stdout: (line) => stdout.push(line), stderr: () => undefined },
    );
    expect(code).toBe(0);
    expect(stdout[0]).toMatch(/^verified: /);
  });
});
