import { createHash } from 'node:crypto';

import { Descriptor, ImageManifest } from '@app/oci';
import { LazyBlob } from '@app/signatures';

import {
  COSIGN_ARTIFACT_SIGNATURE_TYPE,
  cosignCandidates,
  cosignSignatureTag,
  digestOfCosignSignatureTag,
  digestOfReferrersTag,
  isSignatureArtifactType,
  NOTARY_SIGNATURE_ARTIFACT_TYPE,
  referrerCandidates,
  SIGSTORE_BUNDLE_ARTIFACT_TYPE,
  signatureFingerprint,
} from './signature-candidates';

const HEX = 'a'.repeat(64);
const DIGEST = `sha256:${HEX}`;
const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
const EMPTY_CONFIG = {
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: `sha256:${'e'.repeat(64)}`,
  size: 2,
};

function sha(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

function layer(mediaType: string, content: string, annotations?: Record<string, string>) {
  return {
    mediaType,
    digest: sha(content),
    size: content.length,
    ...(annotations && { annotations }),
  };
}

function manifest(
  layers: Descriptor[],
  extra: Partial<ImageManifest> = {},
  config: Descriptor = EMPTY_CONFIG,
): ImageManifest {
  return {
    kind: 'image',
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config,
    layers,
    annotations: {},
    ...extra,
  };
}

/** Records which descriptors were opened; reading is never expected here. */
function opener() {
  const opened: string[] = [];
  const open = (descriptor: Descriptor): LazyBlob => {
    opened.push(descriptor.digest);
    return {
      declaredSize: descriptor.size,
      read: () => Promise.reject(new Error('not read in this test')),
    };
  };
  return { opened, open };
}

describe('signature tags', () => {
  it('builds the cosign tag of a sha256 digest', () => {
    expect(cosignSignatureTag(DIGEST)).toBe(`sha256-${HEX}.sig`);
  });

  it('has no cosign tag for sha512', () => {
    expect(cosignSignatureTag(`sha512:${'b'.repeat(128)}`)).toBeUndefined();
  });

  it.each([
    [`sha256-${HEX}.sig`, DIGEST],
    [`sha256-${'A'.repeat(64)}.sig`, undefined],
    [`sha256-${HEX.slice(1)}.sig`, undefined],
    [`sha256-${HEX}.att`, undefined],
    [`sha256-${HEX}`, undefined],
    ['latest', undefined],
    [null, undefined],
  ])('reads the digest of cosign tag %s', (tag, expected) => {
    expect(digestOfCosignSignatureTag(tag)).toBe(expected);
  });

  it.each([
    [`sha256-${HEX}`, DIGEST],
    [`sha256-${HEX}.sig`, undefined],
    ['1.0', undefined],
    [undefined, undefined],
  ])('reads the digest of referrers tag %s', (tag, expected) => {
    expect(digestOfReferrersTag(tag)).toBe(expected);
  });
});

describe('isSignatureArtifactType', () => {
  it.each([
    [SIGSTORE_BUNDLE_ARTIFACT_TYPE, true],
    ['application/vnd.dev.sigstore.bundle+json;version=0.1', true],
    [NOTARY_SIGNATURE_ARTIFACT_TYPE, true],
    [COSIGN_ARTIFACT_SIGNATURE_TYPE, true],
    ['application/vnd.in-toto+json', false],
    ['application/spdx+json', false],
    [undefined, false],
  ])('%s is a signature type: %s', (artifactType, expected) => {
    expect(isSignatureArtifactType(artifactType)).toBe(expected);
  });
});

describe('cosignCandidates', () => {
  it('makes one candidate per annotated layer', () => {
    const blobs = opener();
    const signed = layer(SIMPLE_SIGNING, 'payload one', {
      'dev.cosignproject.cosign/signature': 'c2lnbmF0dXJl',
    });
    const withCertificate = layer(SIMPLE_SIGNING, 'payload two', {
      'dev.cosignproject.cosign/signature': 'c2ln',
      'dev.sigstore.cosign/certificate': '-----BEGIN CERTIFICATE-----',
    });
    const unannotated = layer(SIMPLE_SIGNING, 'payload three');

    const candidates = cosignCandidates(
      manifest([signed, unannotated, withCertificate]),
      'tag:x.sig',
      blobs.open,
    );

    expect(candidates).toHaveLength(2);
    expect(candidates[0]).toMatchObject({
      format: 'cosign',
      source: 'tag:x.sig layer 0',
      blobDigest: signed.digest,
      signatureBase64: 'c2lnbmF0dXJl',
    });
    expect(candidates[0]).not.toHaveProperty('certificatePem');
    expect(candidates[1]).toMatchObject({
      source: 'tag:x.sig layer 2',
      certificatePem: '-----BEGIN CERTIFICATE-----',
    });
    expect(blobs.opened).toEqual([signed.digest, withCertificate.digest]);
  });

  it('keeps an empty signature annotation for the verifier to reject', () => {
    const candidates = cosignCandidates(
      manifest([layer(SIMPLE_SIGNING, 'p', { 'dev.cosignproject.cosign/signature': '' })]),
      'tag:x.sig',
      opener().open,
    );
    expect(candidates).toHaveLength(1);
  });
});

describe('referrerCandidates', () => {
  it('reads a Sigstore bundle referrer', () => {
    const bundle = layer(SIGSTORE_BUNDLE_ARTIFACT_TYPE, '{"bundle":1}');
    const candidates = referrerCandidates(
      manifest([bundle], { artifactType: SIGSTORE_BUNDLE_ARTIFACT_TYPE }),
      'referrer:r1',
      opener().open,
    );
    expect(candidates).toEqual([
      expect.objectContaining({
        format: 'sigstore-bundle',
        source: 'referrer:r1',
        blobDigest: bundle.digest,
      }),
    ]);
  });

  it('reads JWS and COSE Notary envelopes', () => {
    const jws = layer('application/jose+json', '{"payload":""}');
    const cose = layer('application/cose', 'cbor');
    const candidates = referrerCandidates(
      manifest([jws, cose], { artifactType: NOTARY_SIGNATURE_ARTIFACT_TYPE }),
      'referrer:r2',
      opener().open,
    );
    expect(candidates).toEqual([
      expect.objectContaining({
        format: 'notary',
        source: 'referrer:r2 layer 0',
        envelopeMediaType: 'application/jose+json',
      }),
      expect.objectContaining({
        format: 'notary',
        source: 'referrer:r2 layer 1',
        envelopeMediaType: 'application/cose',
      }),
    ]);
  });

  it('reads the Notary form without artifactType', () => {
    const config = { mediaType: NOTARY_SIGNATURE_ARTIFACT_TYPE, digest: sha('{}'), size: 2 };
    const candidates = referrerCandidates(
      manifest([layer('application/jose+json', 'jws')], {}, config),
      'referrer:r3',
      opener().open,
    );
    expect(candidates).toHaveLength(1);
    expect(candidates[0]?.format).toBe('notary');
  });

  it('reads a cosign simple-signing referrer', () => {
    const candidates = referrerCandidates(
      manifest(
        [layer(SIMPLE_SIGNING, 'payload', { 'dev.cosignproject.cosign/signature': 'c2ln' })],
        { artifactType: COSIGN_ARTIFACT_SIGNATURE_TYPE },
      ),
      'referrer:r4',
      opener().open,
    );
    expect(candidates).toEqual([
      expect.objectContaining({ format: 'cosign', source: 'referrer:r4 layer 0' }),
    ]);
  });

  it('ignores layers of the wrong type and other artifacts', () => {
    const blobs = opener();
    const wrongLayer = referrerCandidates(
      manifest([layer('application/json', '{}')], { artifactType: NOTARY_SIGNATURE_ARTIFACT_TYPE }),
      'referrer:r5',
      blobs.open,
    );
    const sbom = referrerCandidates(
      manifest([layer('application/spdx+json', '{}')], { artifactType: 'application/spdx+json' }),
      'referrer:r6',
      blobs.open,
    );
    expect(wrongLayer).toEqual([]);
    expect(sbom).toEqual([]);
    expect(blobs.opened).toEqual([]);
  });
});

describe('signatureFingerprint', () => {
  const lazy = (size: number): LazyBlob => ({
    declaredSize: size,
    read: () => Promise.reject(new Error('unused')),
  });

  it('ignores where a cosign signature was found', () => {
    const payloadDigest = sha('payload');
    const fromTag = signatureFingerprint({
      format: 'cosign',
      source: 'tag:x.sig layer 0',
      payload: lazy(7),
      blobDigest: payloadDigest,
      signatureBase64: 'c2ln',
    });
    const fromReferrer = signatureFingerprint({
      format: 'cosign',
      source: 'referrer:r layer 3',
      payload: lazy(7),
      blobDigest: payloadDigest,
      signatureBase64: 'c2ln',
    });
    expect(fromReferrer).toBe(fromTag);
    expect(fromTag).toMatch(/^sha256:[a-f0-9]{64}$/);
  });

  it('tells apart signatures over one payload', () => {
    const common = { format: 'cosign' as const, source: 's', payload: lazy(1), blobDigest: DIGEST };
    const first = signatureFingerprint({ ...common, signatureBase64: 'c2ln' });
    const second = signatureFingerprint({ ...common, signatureBase64: 'b3RoZXI=' });
    const withCertificate = signatureFingerprint({
      ...common,
      signatureBase64: 'c2ln',
      certificatePem: 'pem',
    });
    expect(new Set([first, second, withCertificate]).size).toBe(3);
  });

  it('hashes GPG bytes when no digest is given', () => {
    const bytes = Buffer.from('openpgp message');
    const fromBytes = signatureFingerprint({ format: 'gpg', source: 'a', signature: bytes });
    const fromDigest = signatureFingerprint({
      format: 'gpg',
      source: 'b',
      signature: lazy(bytes.length),
      blobDigest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    });
    expect(fromBytes).toBe(fromDigest);
  });

  it('separates formats with the same blob', () => {
    const bundle = signatureFingerprint({
      format: 'sigstore-bundle',
      source: 's',
      bundle: lazy(1),
      blobDigest: DIGEST,
    });
    const notary = signatureFingerprint({
      format: 'notary',
      source: 's',
      envelope: lazy(1),
      envelopeMediaType: 'application/cose',
      blobDigest: DIGEST,
    });
    expect(bundle).not.toBe(notary);
  });

  it('rejects a lazy blob without a digest', () => {
    expect(() =>
      signatureFingerprint({ format: 'gpg', source: 'lookaside', signature: lazy(1) }),
    ).toThrow('Signature from lookaside has neither its bytes nor a blob digest');
  });
});
