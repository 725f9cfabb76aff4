import {
  isImageConfigMediaType,
  isImageLayerMediaType,
  isImageManifestMediaType,
  isIndexMediaType,
  isManifestMediaType,
  isSchema1MediaType,
  MANIFEST_ACCEPT,
  MediaType,
  mediaTypeFromContentType,
} from './media-types';

describe('MediaType', () => {
  it('has the registered strings', () => {
    expect(MediaType.OCI_MANIFEST).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(MediaType.OCI_INDEX).toBe('application/vnd.oci.image.index.v1+json');
    expect(MediaType.DOCKER_MANIFEST).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(MediaType.DOCKER_MANIFEST_LIST).toBe(
      'application/vnd.docker.distribution.manifest.list.v2+json',
    );
    expect(MediaType.DOCKER_SCHEMA1).toBe('application/vnd.docker.distribution.manifest.v1+json');
    expect(MediaType.DOCKER_SCHEMA1_SIGNED).toBe(
      'application/vnd.docker.distribution.manifest.v1+prettyjws',
    );
    expect(MediaType.OCI_CONFIG).toBe('application/vnd.oci.image.config.v1+json');
    expect(MediaType.DOCKER_CONFIG).toBe('application/vnd.docker.container.image.v1+json');
    expect(MediaType.OCI_EMPTY_JSON).toBe('application/vnd.oci.empty.v1+json');
  });
});

describe('MANIFEST_ACCEPT', () => {
  it('lists the four supported types without schema 1', () => {
    expect([...MANIFEST_ACCEPT].sort()).toEqual(
      [
        MediaType.OCI_MANIFEST,
        MediaType.OCI_INDEX,
        MediaType.DOCKER_MANIFEST,
        MediaType.DOCKER_MANIFEST_LIST,
      ].sort(),
    );
  });

  it('is frozen', () => {
    expect(Object.isFrozen(MANIFEST_ACCEPT)).toBe(true);
  });
});

describe('media type predicates', () => {
  it.each([
    MediaType.OCI_MANIFEST,
    MediaType.OCI_INDEX,
    MediaType.DOCKER_MANIFEST,
    MediaType.DOCKER_MANIFEST_LIST,
    MediaType.DOCKER_SCHEMA1,
    MediaType.DOCKER_SCHEMA1_SIGNED,
  ])('isManifestMediaType accepts %s', (mediaType) => {
    expect(isManifestMediaType(mediaType)).toBe(true);
  });

  it.each([MediaType.OCI_CONFIG, 'application/json', '', MediaType.OCI_MANIFEST.toUpperCase()])(
    'isManifestMediaType rejects %j',
    (mediaType) => {
      expect(isManifestMediaType(mediaType)).toBe(false);
    },
  );

  it('sorts manifests from indexes', () => {
    expect(isImageManifestMediaType(MediaType.DOCKER_MANIFEST)).toBe(true);
    expect(isImageManifestMediaType(MediaType.OCI_INDEX)).toBe(false);
    expect(isIndexMediaType(MediaType.DOCKER_MANIFEST_LIST)).toBe(true);
    expect(isIndexMediaType(MediaType.OCI_MANIFEST)).toBe(false);
    expect(isSchema1MediaType(MediaType.DOCKER_SCHEMA1_SIGNED)).toBe(true);
    expect(isSchema1MediaType(MediaType.DOCKER_MANIFEST)).toBe(false);
  });

  it('recognises image configs', () => {
    expect(isImageConfigMediaType(MediaType.OCI_CONFIG)).toBe(true);
    expect(isImageConfigMediaType(MediaType.DOCKER_CONFIG)).toBe(true);
    expect(isImageConfigMediaType(MediaType.OCI_EMPTY_JSON)).toBe(false);
  });

  it.each([
    'application/vnd.oci.image.layer.v1.tar',
    'application/vnd.oci.image.layer.v1.tar+gzip',
    'application/vnd.oci.image.layer.v1.tar+zstd',
    'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
    'application/vnd.docker.image.rootfs.diff.tar.gzip',
    'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ])('isImageLayerMediaType accepts %s', (mediaType) => {
    expect(isImageLayerMediaType(mediaType)).toBe(true);
  });

  it.each([
    'application/vnd.dev.cosign.simplesigning.v1+json',
    'application/vnd.in-toto+json',
    'application/octet-stream',
  ])('isImageLayerMediaType rejects %s', (mediaType) => {
    expect(isImageLayerMediaType(mediaType)).toBe(false);
  });
});

describe('mediaTypeFromContentType', () => {
  it('strips parameters and lowercases', () => {
    expect(
      mediaTypeFromContentType(' Application/VND.oci.image.manifest.v1+json ; charset=utf-8'),
    ).toBe(MediaType.OCI_MANIFEST);
  });

  it('returns undefined for a missing or empty header', () => {
    expect(mediaTypeFromContentType(undefined)).toBeUndefined();
    expect(mediaTypeFromContentType('')).toBeUndefined();
    expect(mediaTypeFromContentType(' ; charset=utf-8')).toBeUndefined();
  });
});
