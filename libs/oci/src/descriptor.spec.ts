import { parseDescriptor } from './descriptor';
import { JsonDocument } from './json';

const DOCUMENT: JsonDocument = { code: 'invalid-manifest', name: 'manifest' };
const DIGEST = `sha256:${'f'.repeat(64)}`;
const minimal = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: DIGEST, size: 0 };

const parse = (value: unknown) => parseDescriptor(DOCUMENT, value, 'layers[0]');

describe('parseDescriptor', () => {
  it('parses the required fields', () => {
    expect(parse(minimal)).toEqual(minimal);
  });

  it('parses every optional field', () => {
    const descriptor = parse({
      ...minimal,
      annotations: { 'org.opencontainers.image.title': 'rootfs.tar' },
      artifactType: 'application/vnd.example+json',
      urls: ['https://mirror.example/blob'],
      platform: {
        architecture: 'arm64',
        os: 'linux',
        variant: 'v8',
        'os.version': '6.1',
        'os.features': ['x'],
      },
      data: 'e30=',
    });

    expect(descriptor).toEqual({
      ...minimal,
      annotations: { 'org.opencontainers.image.title': 'rootfs.tar' },
      artifactType: 'application/vnd.example+json',
      urls: ['https://mirror.example/blob'],
      platform: {
        architecture: 'arm64',
        os: 'linux',
        variant: 'v8',
        osVersion: '6.1',
        osFeatures: ['x'],
      },
    });
  });

  it('keeps a __proto__ annotation as an entry', () => {
    const descriptor = parse(
      JSON.parse(`{"mediaType":"x","digest":"${DIGEST}","size":1,"annotations":{"__proto__":"v"}}`),
    );
    expect(Object.getOwnPropertyDescriptor(descriptor.annotations, '__proto__')?.value).toBe('v');
  });

  it('accepts the largest safe size', () => {
    expect(parse({ ...minimal, size: Number.MAX_SAFE_INTEGER }).size).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    ['not an object', 'layer', 'layers[0] must be a descriptor object'],
    ['missing mediaType', { digest: DIGEST, size: 1 }, 'layers[0].mediaType must be a string'],
    ['empty mediaType', { ...minimal, mediaType: '' }, 'layers[0].mediaType must not be empty'],
    ['missing digest', { ...minimal, digest: undefined }, 'layers[0].digest must be'],
    ['uppercase digest', { ...minimal, digest: DIGEST.toUpperCase() }, 'layers[0].digest must be'],
    ['negative size', { ...minimal, size: -1 }, 'layers[0].size must be a non-negative integer'],
    ['fractional size', { ...minimal, size: 1.5 }, 'layers[0].size must be a non-negative integer'],
    ['unsafe size', { ...minimal, size: 2 ** 53 }, 'layers[0].size must be a non-negative integer'],
    ['string size', { ...minimal, size: '12' }, 'layers[0].size must be a non-negative integer'],
    [
      'missing size',
      { ...minimal, size: undefined },
      'layers[0].size must be a non-negative integer',
    ],
    [
      'numeric annotation',
      { ...minimal, annotations: { a: 1 } },
      'layers[0].annotations["a"] must be a string',
    ],
    [
      'array annotations',
      { ...minimal, annotations: [] },
      'layers[0].annotations must be an object',
    ],
    ['string urls', { ...minimal, urls: 'https://x' }, 'layers[0].urls must be an array'],
    [
      'numeric artifactType',
      { ...minimal, artifactType: 1 },
      'layers[0].artifactType must be a string',
    ],
    [
      'platform without os',
      { ...minimal, platform: { architecture: 'amd64' } },
      'layers[0].platform.os must be a string',
    ],
    [
      'non-array os.features',
      { ...minimal, platform: { architecture: 'a', os: 'b', 'os.features': 'x' } },
      'layers[0].platform["os.features"] must be an array',
    ],
  ])('rejects %s', (_case, value, message) => {
    expect(() => parse(value)).toThrow(message);
    expect(() => parse(value)).toThrow(expect.objectContaining({ code: 'invalid-manifest' }));
  });
});
