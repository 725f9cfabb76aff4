import { checkLayersMatchConfig, parseImageConfig } from './image-config';
import { ImageManifest, MAX_ENTRIES } from './manifest';
import { MediaType } from './media-types';

const digestOf = (char: string): string => `sha256:${char.repeat(64)}`;
const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

// The fields Docker writes for a two-layer image, with null where Docker writes null.
const dockerConfig = {
  architecture: 'amd64',
  os: 'linux',
  created: '2024-05-01T10:00:00.123456789Z',
  author: 'team@example.com',
  config: {
    User: '1000:1000',
    Env: ['PATH=/usr/local/bin:/usr/bin', 'APP_MODE=production'],
    Entrypoint: ['/app/server'],
    Cmd: null,
    WorkingDir: '/app',
    Labels: { Name: 'team/app', Version: '1.4', Release: '2' },
    ExposedPorts: { '8080/tcp': {} },
  },
  rootfs: { type: 'layers', diff_ids: [digestOf('a'), digestOf('b')] },
  history: [
    { created: '2024-04-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:abc in / ' },
    {
      created: '2024-04-01T00:00:01Z',
      created_by: '/bin/sh -c #(nop)  CMD ["/bin/sh"]',
      empty_layer: true,
    },
    {
      created: '2024-05-01T10:00:00Z',
      created_by: 'COPY server /app/server',
      comment: 'buildkit.dockerfile.v0',
      author: 'ci',
    },
  ],
};

const manifestWithLayers = (count: number): ImageManifest => ({
  kind: 'image',
  mediaType: MediaType.OCI_MANIFEST,
  config: { mediaType: MediaType.OCI_CONFIG, digest: digestOf('c'), size: 100 },
  layers: Array.from({ length: count }, () => ({
    mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    digest: digestOf('1'),
    size: 10,
  })),
  annotations: {},
});

describe('parseImageConfig', () => {
  it('parses a Docker image config', () => {
    expect(parseImageConfig(encode(dockerConfig))).toEqual({
      architecture: 'amd64',
      os: 'linux',
      created: '2024-05-01T10:00:00.123456789Z',
      author: 'team@example.com',
      user: '1000:1000',
      env: ['PATH=/usr/local/bin:/usr/bin', 'APP_MODE=production'],
      labels: { Name: 'team/app', Version: '1.4', Release: '2' },
      entrypoint: ['/app/server'],
      workingDir: '/app',
      diffIds: [digestOf('a'), digestOf('b')],
      history: [
        {
          created: '2024-04-01T00:00:00Z',
          createdBy: '/bin/sh -c #(nop) ADD file:abc in / ',
          emptyLayer: false,
        },
        {
          created: '2024-04-01T00:00:01Z',
          createdBy: '/bin/sh -c #(nop)  CMD ["/bin/sh"]',
          emptyLayer: true,
        },
        {
          created: '2024-05-01T10:00:00Z',
          createdBy: 'COPY server /app/server',
          comment: 'buildkit.dockerfile.v0',
          author: 'ci',
          emptyLayer: false,
        },
      ],
    });
  });

  it('parses a minimal scratch config', () => {
    const config = parseImageConfig(
      encode({
        architecture: 'arm64',
        os: 'linux',
        variant: 'v8',
        rootfs: { type: 'layers', diff_ids: [] },
      }),
    );

    expect(config).toEqual({
      architecture: 'arm64',
      os: 'linux',
      variant: 'v8',
      env: [],
      labels: {},
      diffIds: [],
      history: [],
    });
  });

  it('treats null config, Env, Labels and history as empty', () => {
    const config = parseImageConfig(
      encode({ ...dockerConfig, config: { Env: null, Labels: null }, history: null }),
    );
    expect(config.env).toEqual([]);
    expect(config.labels).toEqual({});
    expect(config.history).toEqual([]);
    expect(config).not.toHaveProperty('user');
  });

  it('keeps an empty User', () => {
    expect(parseImageConfig(encode({ ...dockerConfig, config: { User: '' } })).user).toBe('');
  });

  it(`accepts ${MAX_ENTRIES} diff_ids`, () => {
    const diffIds = Array.from({ length: MAX_ENTRIES }, () => digestOf('a'));
    const config = parseImageConfig(
      encode({ ...dockerConfig, rootfs: { type: 'layers', diff_ids: diffIds } }),
    );
    expect(config.diffIds).toHaveLength(MAX_ENTRIES);
  });

  it('rejects one diff_id too many', () => {
    const diffIds = Array.from({ length: MAX_ENTRIES + 1 }, () => digestOf('a'));
    expect(() =>
      parseImageConfig(encode({ ...dockerConfig, rootfs: { type: 'layers', diff_ids: diffIds } })),
    ).toThrow(expect.objectContaining({ code: 'too-many-entries' }));
  });

  it('rejects bytes that are not JSON', () => {
    expect(() => parseImageConfig(new TextEncoder().encode('{'))).toThrow(
      expect.objectContaining({ code: 'invalid-json' }),
    );
  });

  it.each([
    ['a non-object', [], 'expected a JSON object'],
    [
      'missing architecture',
      { ...dockerConfig, architecture: undefined },
      'architecture must be a string',
    ],
    ['numeric os', { ...dockerConfig, os: 1 }, 'os must be a string'],
    ['missing rootfs', { ...dockerConfig, rootfs: undefined }, 'rootfs must be an object'],
    [
      'another rootfs type',
      { ...dockerConfig, rootfs: { type: 'zfs', diff_ids: [] } },
      'rootfs.type must be "layers", got "zfs"',
    ],
    [
      'missing diff_ids',
      { ...dockerConfig, rootfs: { type: 'layers' } },
      'rootfs.diff_ids must be an array of digests',
    ],
    [
      'an uppercase diff_id',
      { ...dockerConfig, rootfs: { type: 'layers', diff_ids: [digestOf('a'), digestOf('B')] } },
      'rootfs.diff_ids[1] must be "sha256:"',
    ],
    ['a string config', { ...dockerConfig, config: 'x' }, 'config must be an object'],
    [
      'a string Env',
      { ...dockerConfig, config: { Env: 'A=1' } },
      'config.Env must be an array of strings',
    ],
    [
      'a numeric label',
      { ...dockerConfig, config: { Labels: { Version: 2 } } },
      'config.Labels["Version"] must be a string',
    ],
    [
      'a string Cmd',
      { ...dockerConfig, config: { Cmd: 'run' } },
      'config.Cmd must be an array of strings',
    ],
    ['a history object', { ...dockerConfig, history: {} }, 'history must be an array'],
    ['a string history entry', { ...dockerConfig, history: ['x'] }, 'history[0] must be an object'],
    [
      'a string empty_layer',
      { ...dockerConfig, history: [{ empty_layer: 'true' }] },
      'history[0].empty_layer must be a boolean',
    ],
    [
      'a numeric created_by',
      { ...dockerConfig, history: [{ created_by: 1 }] },
      'history[0].created_by must be a string',
    ],
  ])('rejects %s', (_case, body, message) => {
    expect(() => parseImageConfig(encode(body))).toThrow(message);
    expect(() => parseImageConfig(encode(body))).toThrow(
      expect.objectContaining({ code: 'invalid-config' }),
    );
  });
});

describe('checkLayersMatchConfig', () => {
  const config = parseImageConfig(encode(dockerConfig));

  it('accepts equal counts', () => {
    expect(() => checkLayersMatchConfig(manifestWithLayers(2), config)).not.toThrow();
  });

  it.each([1, 3])('rejects %i layers for 2 diff_ids', (count) => {
    expect(() => checkLayersMatchConfig(manifestWithLayers(count), config)).toThrow(
      expect.objectContaining({ code: 'layer-mismatch' }),
    );
  });

  it('names both counts', () => {
    expect(() => checkLayersMatchConfig(manifestWithLayers(3), config)).toThrow(
      'Manifest lists 3 layers but its image config lists 2 rootfs.diff_ids',
    );
  });
});
