import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  cosignStatement,
  createLocalSigstore,
  dsseBundle,
  issueLeaf,
} from '../../test-fixtures/sigstore';
import {
  cosignPayload,
  createGpgSigner,
  GpgSigner,
  makeTempDir,
  opensslKey,
  OpensslKey,
  opensslSign,
  skopeoStandaloneSign,
} from '../../test-fixtures/tools';
import { sha256Digest } from '../digest';
import { runVerifyCommand, VerifyCommandOptions } from './verify-command';

async function run(
  options: VerifyCommandOptions,
): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runVerifyCommand(options, {
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
  });
  return { code, stdout, stderr };
}

describe('runVerifyCommand', () => {
  const temp = makeTempDir('verify-command-');
  const manifest = Buffer.from(
    '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}',
  );
  const digest = sha256Digest(manifest);
  const reference = 'registry.example.com/team/app:v1';
  const path = (name: string) => join(temp.dir, name);
  let key: OpensslKey;
  let signer: GpgSigner;

  beforeAll(() => {
    writeFileSync(path('manifest.json'), manifest);
    key = opensslKey(temp.dir, 'cli', 'ec:P-256');
    writeFileSync(path('cosign.pub'), key.publicPem);
    const payload = Buffer.from(cosignPayload(digest, reference));
    writeFileSync(path('payload.json'), payload);
    writeFileSync(path('cosign.sig'), opensslSign(temp.dir, key, payload).toString('base64'));
    const otherTag = Buffer.from(cosignPayload(digest, 'registry.example.com/team/app:v0'));
    writeFileSync(path('other-tag.json'), otherTag);
    writeFileSync(path('other-tag.sig'), opensslSign(temp.dir, key, otherTag).toString('base64'));

    signer = createGpgSigner(temp.dir, 'cli');
    writeFileSync(path('keyring.asc'), signer.armoredPublicKey);
    writeFileSync(path('signature-1'), skopeoStandaloneSign(signer, temp.dir, manifest, reference));
  });
  afterAll(() => temp.cleanup());

  it('verifies a cosign signature with a key', async () => {
    const result = await run({
      manifest: path('manifest.json'),
      signature: path('cosign.sig'),
      payload: path('payload.json'),
      reference,
      key: [path('cosign.pub')],
    });
    expect(result.code).toBe(0);
    expect(result.stdout[0]).toMatch(/^verified: /);
    expect(result.stdout).toContain(`digest: ${digest}`);
  });

  it('detects and verifies a GPG signature', async () => {
    const result = await run({
      manifest: path('manifest.json'),
      signature: path('signature-1'),
      reference,
      gpgKeyring: path('keyring.asc'),
    });
    expect(result.code).toBe(0);
    expect(result.stdout.join('\n')).toContain(signer.fingerprint);
  });

  it('returns 1 for an identity mismatch', async () => {
    const result = await run({
      manifest: path('manifest.json'),
      signature: path('other-tag.sig'),
      payload: path('other-tag.json'),
      reference,
      key: [path('cosign.pub')],
    });
    expect(result.code).toBe(1);
    expect(result.stdout.join('\n')).toMatch(/identity-mismatch/);
  });

  it('returns 1 for a signature over another manifest', async () => {
    writeFileSync(path('other-manifest.json'), '{"schemaVersion":2}');
    const result = await run({
      manifest: path('other-manifest.json'),
      signature: path('cosign.sig'),
      payload: path('payload.json'),
      reference,
      key: [path('cosign.pub')],
    });
    expect(result.code).toBe(1);
    expect(result.stdout[0]).toMatch(/^invalid: /);
  });

  it('verifies a Sigstore bundle via policy.json', async () => {
    const sigstore = createLocalSigstore(temp.dir, 'cli-fulcio');
    const leaf = issueLeaf(temp.dir, sigstore, 'cli-leaf', {
      san: 'email:dev@example.com',
      issuer: 'https://issuer.example.com',
    });
    writeFileSync(
      path('bundle.json'),
      dsseBundle(cosignStatement(digest), { sigstore, leaf, version: '0.3' }),
    );
    // The local trusted root has no CT log, so the policy file form (Fulcio CA + Rekor key) is used.
    writeFileSync(path('fulcio.pem'), sigstore.ca.pem);
    writeFileSync(path('rekor.pub'), sigstore.rekorPublicPem);
    writeFileSync(
      path('policy.json'),
      JSON.stringify({
        default: [
          {
            type: 'sigstoreSigned',
            fulcio: {
              caPath: path('fulcio.pem'),
              oidcIssuer: 'https://issuer.example.com',
              subjectEmail: 'dev@example.com',
            },
            rekorPublicKeyPath: path('rekor.pub'),
          },
        ],
      }),
    );
    const result = await run({
      manifest: path('manifest.json'),
      signature: path('bundle.json'),
      reference,
      policy: path('policy.json'),
    });
    expect(result.stdout[0]).toMatch(/^verified: /);
    expect(result.code).toBe(0);
  });

  it('requires an SCT with --trusted-root', async () => {
    const sigstore = createLocalSigstore(temp.dir, 'cli-root');
    const leaf = issueLeaf(temp.dir, sigstore, 'cli-root-leaf', {
      san: 'email:dev@example.com',
      issuer: 'https://issuer.example.com',
    });
    writeFileSync(
      path('root-bundle.json'),
      dsseBundle(cosignStatement(digest), { sigstore, leaf, version: '0.3' }),
    );
    writeFileSync(path('trusted_root.json'), sigstore.trustedRootJson);
    const withRoot = await run({
      manifest: path('manifest.json'),
      signature: path('root-bundle.json'),
      reference,
      trustedRoot: path('trusted_root.json'),
      identity: 'dev@example.com',
      issuer: 'https://issuer.example.com',
    });
    // The trusted_root.json path requires an SCT, which the local CA does not issue.
    expect(withRoot.code).toBe(1);
    expect(withRoot.stdout.join('\n')).toMatch(/SCT/);
  });

  it.each([
    [
      'a missing manifest',
      { manifest: '/nonexistent/manifest.json', signature: 'x', reference: 'a/b:c', key: ['x'] },
      /could not be read/,
    ],
    [
      'no trust material',
      { manifest: 'manifest.json', signature: 'signature-1', reference: 'a/b:c' },
      /no trust material/,
    ],
    [
      'a digest reference',
      {
        manifest: 'manifest.json',
        signature: 'signature-1',
        reference: `a/b@sha256:${'0'.repeat(64)}`,
      },
      /not a digest/,
    ],
    [
      'an invalid reference',
      { manifest: 'manifest.json', signature: 'signature-1', reference: 'UPPER/case' },
      /is invalid/,
    ],
    [
      'cosign without payload',
      {
        manifest: 'manifest.json',
        signature: 'cosign.sig',
        reference,
        format: 'cosign',
        key: ['cosign.pub'],
      },
      /needs --payload/,
    ],
    [
      'trusted root without identity',
      {
        manifest: 'manifest.json',
        signature: 'signature-1',
        reference,
        trustedRoot: 'manifest.json',
      },
      /needs --identity/,
    ],
  ] as [string, VerifyCommandOptions, RegExp][])(
    'returns 3 for %s',
    async (_name, options, message) => {
      const absolute = (value: string) => (value.startsWith('/') ? value : path(value));
      const result = await run({
        ...options,
        manifest: absolute(options.manifest),
        signature: absolute(options.signature),
        ...(options.key && { key: options.key.map(absolute) }),
        ...(options.trustedRoot && { trustedRoot: absolute(options.trustedRoot) }),
      });
      expect(result.code).toBe(3);
      expect(result.stderr.join('\n')).toMatch(message);
    },
  );

  it('returns 3 for an undetectable format', async () => {
    writeFileSync(path('garbage.sig'), 'plain text');
    const result = await run({
      manifest: path('manifest.json'),
      signature: path('garbage.sig'),
      reference,
      key: [path('cosign.pub')],
    });
    expect(result.code).toBe(3);
    expect(result.stderr[0]).toMatch(/could not be detected/);
  });
});
