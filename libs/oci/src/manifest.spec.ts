import { Descriptor } from './descriptor';
import {
  ImageIndex,
  ImageManifest,
  isArtifactManifest,
  isAttestationEntry,
  ManifestDocument,
  MAX_ENTRIES,
  parseManifest,
} from './manifest';
import { MediaType } from './media-types';

const digestOf = (char: string): string => `sha256:${char.repeat(64)}`;
const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

function asImage(document: ManifestDocument): ImageManifest {
  if (document.kind !== 'image') {
    throw new Error(`expected an image manifest, got an ${document.kind}`);
  }
  return document;
}

function asIndex(document: ManifestDocument): ImageIndex {
  if (document.kind !== 'index') {
    throw new Error(`expected an index, got an ${document.kind} manifest`);
  }
  return document;
}

/** Returns a copy of `value` without the field `key`. */
function omit<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  const copy = { ...value };
  delete copy[key];
  return copy;
}

const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

const configDescriptor = { mediaType: MediaType.OCI_CONFIG, digest: digestOf('c'), size: 1470 };
const layerDescriptor = (char: string) => ({
  mediaType: OCI_LAYER,
  digest: digestOf(char),
  size: 3,
});

const ociManifest = {
  schemaVersion: 2,
  mediaType: MediaType.OCI_MANIFEST,
  config: configDescriptor,
  layers: [layerDescriptor('1'), layerDescriptor('2')],
  annotations: { 'org.opencontainers.image.base.name': 'docker.io/library/alpine:3.19' },
};

const linuxAmd64 = {
  mediaType: MediaType.OCI_MANIFEST,
  digest: digestOf('a'),
  size: 1000,
  platform: { architecture: 'amd64', os: 'linux' },
};

// The shape BuildKit gives an attestation manifest inside an index.
const buildkitAttestation = {
  mediaType: MediaType.OCI_MANIFEST,
  digest: digestOf('e'),
  size: 840,
  annotations: {
    'vnd.docker.reference.digest': digestOf('a'),
    'vnd.docker.reference.type': 'attestation-manifest',
  },
  platform: { architecture: 'unknown', os: 'unknown' },
};

const ociIndex = {
  schemaVersion: 2,
  mediaType: MediaType.OCI_INDEX,
  manifests: [
    linuxAmd64,
    {
      mediaType: MediaType.OCI_MANIFEST,
      digest: digestOf('b'),
      size: 1001,
      platform: {
        architecture: 'amd64',
        os: 'windows',
        'os.version': '10.0.17763.1',
        'os.features': ['win32k'],
      },
    },
    buildkitAttestation,
  ],
};

const dockerManifest = {
  schemaVersion: 2,
  mediaType: MediaType.DOCKER_MANIFEST,
  config: { mediaType: MediaType.DOCKER_CONFIG, digest: digestOf('c'), size: 1500 },
  layers: [{ mediaType: DOCKER_LAYER, digest: digestOf('1'), size: 2_811_321 }],
};

const dockerManifestList = {
  schemaVersion: 2,
  mediaType: MediaType.DOCKER_MANIFEST_LIST,
  manifests: [
    {
      mediaType: MediaType.DOCKER_MANIFEST,
      digest: digestOf('a'),
      size: 528,
      platform: { architecture: 'arm', os: 'linux', variant: 'v7' },
    },
  ],
};

// A signed schema 1 manifest, reduced to its fields.
const schema1Manifest = {
  schemaVersion: 1,
  name: 'team/app',
  tag: 'latest',
  architecture: 'amd64',
  fsLayers: [{ blobSum: digestOf('1') }],
  history: [{ v1Compatibility: '{}' }],
  signatures: [{ header: {}, signature: 'x', protected: 'y' }],
};

function expectCode(action: () => unknown, code: string): void {
  expect(action).toThrow(expect.objectContaining({ code }));
}

describe('parseManifest', () => {
  it('parses an OCI image manifest', () => {
    expect(parseManifest(encode(ociManifest), MediaType.OCI_MANIFEST)).toEqual({
      kind: 'image',
      mediaType: MediaType.OCI_MANIFEST,
      config: configDescriptor,
      layers: [layerDescriptor('1'), layerDescriptor('2')],
      annotations: { 'org.opencontainers.image.base.name': 'docker.io/library/alpine:3.19' },
    });
  });

  it('parses an OCI image index', () => {
    const index = parseManifest(encode(ociIndex), MediaType.OCI_INDEX);

    expect(index.kind).toBe('index');
    expect(index.mediaType).toBe(MediaType.OCI_INDEX);
    expect(index.annotations).toEqual({});
    expect(asIndex(index).manifests).toEqual([
      linuxAmd64,
      {
        mediaType: MediaType.OCI_MANIFEST,
        digest: digestOf('b'),
        size: 1001,
        platform: {
          architecture: 'amd64',
          os: 'windows',
          osVersion: '10.0.17763.1',
          osFeatures: ['win32k'],
        },
      },
      buildkitAttestation,
    ]);
  });

  it('parses a Docker schema 2 manifest', () => {
    const manifest = parseManifest(encode(dockerManifest), MediaType.DOCKER_MANIFEST);

    expect(manifest).toEqual({
      kind: 'image',
      mediaType: MediaType.DOCKER_MANIFEST,
      config: dockerManifest.config,
      layers: dockerManifest.layers,
      annotations: {},
    });
  });

  it('parses a Docker manifest list', () => {
    const list = parseManifest(encode(dockerManifestList), MediaType.DOCKER_MANIFEST_LIST);

    expect(list).toEqual({
      kind: 'index',
      mediaType: MediaType.DOCKER_MANIFEST_LIST,
      manifests: dockerManifestList.manifests,
      annotations: {},
    });
  });

  it('ignores Content-Type parameters and case', () => {
    const contentType = 'Application/VND.OCI.Image.Manifest.v1+JSON; charset=utf-8';
    expect(parseManifest(encode(ociManifest), contentType).mediaType).toBe(MediaType.OCI_MANIFEST);
  });

  it('parses subject and artifactType', () => {
    const subject = { mediaType: MediaType.OCI_MANIFEST, digest: digestOf('d'), size: 7 };
    const manifest = parseManifest(
      encode({
        ...ociManifest,
        config: { mediaType: MediaType.OCI_EMPTY_JSON, digest: digestOf('4'), size: 2 },
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        subject,
      }),
    );

    expect(manifest.subject).toEqual(subject);
    expect(manifest.artifactType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
  });

  it('ignores unknown fields', () => {
    const manifest = parseManifest(encode({ ...ociManifest, extension: { x: 1 } }));
    expect(manifest).not.toHaveProperty('extension');
  });

  it('accepts an image manifest without layers', () => {
    const manifest = parseManifest(encode({ ...ociManifest, layers: [] }));
    expect(asImage(manifest).layers).toEqual([]);
  });

  describe('without a mediaType field (umoci)', () => {
    const umociManifest = omit(ociManifest, 'mediaType');
    const umociIndex = omit(ociIndex, 'mediaType');

    it('takes the type from Content-Type', () => {
      expect(parseManifest(encode(umociManifest), MediaType.OCI_MANIFEST).mediaType).toBe(
        MediaType.OCI_MANIFEST,
      );
    });

    it('infers an image manifest from its shape', () => {
      const manifest = parseManifest(encode(umociManifest));
      expect(manifest.kind).toBe('image');
      expect(manifest.mediaType).toBe(MediaType.OCI_MANIFEST);
    });

    it('infers an index from its shape', () => {
      const index = parseManifest(encode(umociIndex));
      expect(index.kind).toBe('index');
      expect(index.mediaType).toBe(MediaType.OCI_INDEX);
    });

    it('rejects a shape with neither manifests nor layers', () => {
      expectCode(() => parseManifest(encode({ schemaVersion: 2 })), 'invalid-manifest');
    });

    it('rejects an index body served as an image manifest', () => {
      expectCode(
        () => parseManifest(encode(umociIndex), MediaType.OCI_MANIFEST),
        'invalid-manifest',
      );
    });
  });

  describe('schema 1', () => {
    it('rejects schemaVersion 1', () => {
      expectCode(() => parseManifest(encode(schema1Manifest)), 'schema1-unsupported');
    });

    it('rejects schemaVersion 1 served as prettyjws', () => {
      expectCode(
        () => parseManifest(encode(schema1Manifest), MediaType.DOCKER_SCHEMA1_SIGNED),
        'schema1-unsupported',
      );
    });

    it('rejects a schema 1 media type field', () => {
      expectCode(
        () => parseManifest(encode({ ...ociManifest, mediaType: MediaType.DOCKER_SCHEMA1 })),
        'schema1-unsupported',
      );
    });

    it('rejects a schema 1 Content-Type', () => {
      const body = omit(ociManifest, 'mediaType');
      expectCode(
        () => parseManifest(encode(body), MediaType.DOCKER_SCHEMA1),
        'schema1-unsupported',
      );
    });

    it('explains the reason', () => {
      expect(() => parseManifest(encode(schema1Manifest))).toThrow(
        /schema 1 manifest \(schemaVersion 1\) is not supported/,
      );
    });
  });

  describe('ambiguous bodies', () => {
    it('rejects layers together with manifests', () => {
      expectCode(
        () => parseManifest(encode({ ...ociManifest, manifests: ociIndex.manifests })),
        'ambiguous-manifest',
      );
    });

    it('rejects config together with manifests', () => {
      expectCode(
        () => parseManifest(encode({ ...ociIndex, config: configDescriptor })),
        'ambiguous-manifest',
      );
    });
  });

  describe('entry limits', () => {
    const layers = (count: number) => Array.from({ length: count }, () => layerDescriptor('1'));
    const manifests = (count: number) => Array.from({ length: count }, () => linuxAmd64);

    it(`accepts ${MAX_ENTRIES} layers`, () => {
      const manifest = parseManifest(encode({ ...ociManifest, layers: layers(MAX_ENTRIES) }));
      expect(asImage(manifest).layers).toHaveLength(MAX_ENTRIES);
    });

    it('rejects one layer too many', () => {
      expectCode(
        () => parseManifest(encode({ ...ociManifest, layers: layers(MAX_ENTRIES + 1) })),
        'too-many-entries',
      );
    });

    it('rejects one index entry too many', () => {
      expectCode(
        () => parseManifest(encode({ ...ociIndex, manifests: manifests(MAX_ENTRIES + 1) })),
        'too-many-entries',
      );
    });
  });

  describe('media type checks', () => {
    it('rejects a field that disagrees with Content-Type', () => {
      expectCode(
        () => parseManifest(encode(ociManifest), MediaType.DOCKER_MANIFEST),
        'media-type-mismatch',
      );
    });

    it('rejects an index served as a manifest', () => {
      expectCode(
        () => parseManifest(encode(ociIndex), MediaType.OCI_MANIFEST),
        'media-type-mismatch',
      );
    });

    it('names both types in the mismatch message', () => {
      expect(() => parseManifest(encode(ociManifest), MediaType.DOCKER_MANIFEST)).toThrow(
        `the body says "${MediaType.OCI_MANIFEST}" but Content-Type says "${MediaType.DOCKER_MANIFEST}"`,
      );
    });

    it('rejects an unknown media type field', () => {
      expectCode(
        () =>
          parseManifest(
            encode({ ...ociManifest, mediaType: 'application/vnd.oci.artifact.manifest.v1+json' }),
          ),
        'unsupported-media-type',
      );
    });

    it('infers the type when Content-Type is generic', () => {
      const body = omit(ociManifest, 'mediaType');
      expect(parseManifest(encode(body), 'application/json').mediaType).toBe(
        MediaType.OCI_MANIFEST,
      );
    });

    it('ignores a generic Content-Type next to a field', () => {
      const parsed = parseManifest(encode(ociManifest), 'application/octet-stream');
      expect(parsed.mediaType).toBe(MediaType.OCI_MANIFEST);
    });

    it('rejects a non-string media type field', () => {
      expectCode(() => parseManifest(encode({ ...ociManifest, mediaType: 2 })), 'invalid-manifest');
    });
  });

  describe('document checks', () => {
    it('rejects bytes that are not JSON', () => {
      expectCode(
        () => parseManifest(new TextEncoder().encode('{"schemaVersion":')),
        'invalid-json',
      );
    });

    it('rejects invalid UTF-8', () => {
      expectCode(() => parseManifest(new Uint8Array([0x7b, 0xff, 0x7d])), 'invalid-json');
    });

    it('keeps the parser error as cause', () => {
      try {
        parseManifest(new TextEncoder().encode('nope'));
        throw new Error('parseManifest did not throw');
      } catch (error) {
        expect((error as Error).cause).toBeInstanceOf(SyntaxError);
      }
    });

    it.each([
      ['an array', []],
      ['a string', 'manifest'],
      ['null', null],
    ])('rejects %s', (_case, body) => {
      expectCode(() => parseManifest(encode(body)), 'invalid-manifest');
    });

    it.each([
      ['missing', undefined],
      ['3', 3],
      ['a string', '2'],
    ])('rejects schemaVersion %s', (_case, schemaVersion) => {
      expectCode(
        () => parseManifest(encode({ ...ociManifest, schemaVersion })),
        'invalid-manifest',
      );
    });

    it('rejects a manifest without config', () => {
      const body = omit(ociManifest, 'config');
      expectCode(() => parseManifest(encode(body)), 'invalid-manifest');
    });

    it('rejects layers that are not an array', () => {
      expectCode(() => parseManifest(encode({ ...ociManifest, layers: {} })), 'invalid-manifest');
    });

    it('rejects an index without manifests', () => {
      expectCode(
        () => parseManifest(encode({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX })),
        'invalid-manifest',
      );
    });

    it('rejects non-string annotations', () => {
      expectCode(
        () => parseManifest(encode({ ...ociManifest, annotations: { created: 1 } })),
        'invalid-manifest',
      );
    });

    it('rejects an invalid layer with its path', () => {
      const layers = [layerDescriptor('1'), { ...layerDescriptor('2'), size: -1 }];
      expect(() => parseManifest(encode({ ...ociManifest, layers }))).toThrow(
        'Invalid manifest: layers[1].size must be a non-negative integer, got -1.',
      );
    });

    it('rejects an invalid index entry digest', () => {
      const manifests = [{ ...linuxAmd64, digest: digestOf('A') }];
      expectCode(() => parseManifest(encode({ ...ociIndex, manifests })), 'invalid-manifest');
    });

    it('rejects an invalid subject', () => {
      expectCode(
        () => parseManifest(encode({ ...ociManifest, subject: { mediaType: 'x' } })),
        'invalid-manifest',
      );
    });
  });
});

describe('isAttestationEntry', () => {
  it('is false for a platform image', () => {
    expect(isAttestationEntry(linuxAmd64)).toBe(false);
  });

  it('is true for a BuildKit attestation', () => {
    expect(isAttestationEntry(buildkitAttestation)).toBe(true);
  });

  it('is true for an unknown/unknown platform alone', () => {
    const entry = { ...linuxAmd64, platform: { architecture: 'unknown', os: 'unknown' } };
    expect(isAttestationEntry(entry)).toBe(true);
  });

  it('is true for the reference type annotation alone', () => {
    const entry = {
      ...linuxAmd64,
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
    };
    expect(isAttestationEntry(entry)).toBe(true);
  });

  it('is true for a non-image artifactType', () => {
    const entry = { ...linuxAmd64, artifactType: 'application/vnd.cncf.notary.signature' };
    expect(isAttestationEntry(entry)).toBe(true);
  });

  it('is false for an image config artifactType', () => {
    expect(isAttestationEntry({ ...linuxAmd64, artifactType: MediaType.OCI_CONFIG })).toBe(false);
  });

  it('is false for an entry without platform', () => {
    const entry = omit(linuxAmd64, 'platform');
    expect(isAttestationEntry(entry)).toBe(false);
  });
});

describe('isArtifactManifest', () => {
  const image = asImage(parseManifest(encode(ociManifest)));
  const subject: Descriptor = { mediaType: MediaType.OCI_MANIFEST, digest: digestOf('d'), size: 7 };

  it('is false for an image', () => {
    expect(isArtifactManifest(image)).toBe(false);
  });

  it('is false for a Docker image', () => {
    expect(isArtifactManifest(asImage(parseManifest(encode(dockerManifest))))).toBe(false);
  });

  it('is false for an image without layers', () => {
    expect(isArtifactManifest({ ...image, layers: [] })).toBe(false);
  });

  it('is true with a subject', () => {
    expect(isArtifactManifest({ ...image, subject })).toBe(true);
  });

  it('is true with an artifactType', () => {
    expect(isArtifactManifest({ ...image, artifactType: 'application/vnd.example+json' })).toBe(
      true,
    );
  });

  it('is true with an empty config', () => {
    const config = { mediaType: MediaType.OCI_EMPTY_JSON, digest: digestOf('4'), size: 2 };
    expect(isArtifactManifest({ ...image, config })).toBe(true);
  });

  it('is true for a cosign signature manifest', () => {
    const layers = [
      {
        mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
        digest: digestOf('5'),
        size: 240,
        annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ==' },
      },
    ];
    expect(isArtifactManifest({ ...image, layers })).toBe(true);
  });
});
