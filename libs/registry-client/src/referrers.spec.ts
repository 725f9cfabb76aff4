import { MediaType, sha256Digest } from '@app/oci';

import { RegistryClientOptions } from './options';
import { RegistryClient } from './registry-client';
import { catchRegistryError } from './testing/catch-registry-error';
import { HttpTestServer, sendJson, sendRegistryError } from './testing/http-test-server';

const SUBJECT_DIGEST = sha256Digest('subject manifest');
const SUBJECT_HEX = SUBJECT_DIGEST.slice('sha256:'.length);
const COSIGN_SIGNATURE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const NOTATION_SIGNATURE = 'application/vnd.cncf.notary.signature';
const SBOM = 'application/spdx+json';

function referrer(artifactType: string, content: string): Record<string, unknown> {
  return {
    mediaType: MediaType.OCI_MANIFEST,
    digest: sha256Digest(content),
    size: content.length,
    artifactType,
    annotations: { 'org.opencontainers.image.created': '2024-05-01T00:00:00Z' },
  };
}

const COSIGN_REFERRER = referrer(COSIGN_SIGNATURE, 'cosign');
const NOTATION_REFERRER = referrer(NOTATION_SIGNATURE, 'notation');
const SBOM_REFERRER = referrer(SBOM, 'sbom');

function index(manifests: unknown[]): Record<string, unknown> {
  return { schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests };
}

let registry: HttpTestServer;
let elsewhere: HttpTestServer;

beforeAll(async () => {
  registry = await HttpTestServer.start();
  elsewhere = await HttpTestServer.start();
});

afterAll(async () => {
  await registry.close();
  await elsewhere.close();
});

beforeEach(() => {
  elsewhere.handle((_request, response) => sendJson(response, 200, index([])));
});

function client(options: Partial<RegistryClientOptions> = {}): RegistryClient {
  return new RegistryClient({
    name: 'local',
    baseUrl: registry.origin,
    retryBaseMs: 1,
    maxRetries: 1,
    ...options,
  });
}

const REFERRERS_PATH = `/v2/app/referrers/${SUBJECT_DIGEST}`;
const FALLBACK_PATH = `/v2/app/manifests/sha256-${SUBJECT_HEX}`;

describe('listReferrers with the referrers API', () => {
  it('returns the descriptors of the index', async () => {
    registry.handle((_request, response) =>
      sendJson(response, 200, index([COSIGN_REFERRER, SBOM_REFERRER]), {
        'content-type': MediaType.OCI_INDEX,
      }),
    );

    const descriptors = await client().listReferrers('app', SUBJECT_DIGEST);

    expect(descriptors).toEqual([COSIGN_REFERRER, SBOM_REFERRER]);
    expect(registry.requests).toHaveLength(1);
    expect(registry.requests[0].path).toBe(REFERRERS_PATH);
    expect(registry.requests[0].query.has('artifactType')).toBe(false);
    expect(registry.requests[0].headers.accept).toBe(MediaType.OCI_INDEX);
  });

  it('filters client-side when the registry did not', async () => {
    registry.handle((_request, response) =>
      sendJson(response, 200, index([COSIGN_REFERRER, NOTATION_REFERRER, SBOM_REFERRER])),
    );

    const descriptors = await client().listReferrers('app', SUBJECT_DIGEST, NOTATION_SIGNATURE);

    expect(descriptors).toEqual([NOTATION_REFERRER]);
    expect(registry.requests[0].query.get('artifactType')).toBe(NOTATION_SIGNATURE);
  });

  it('keeps a list the registry filtered', async () => {
    registry.handle((_request, response) =>
      sendJson(response, 200, index([COSIGN_REFERRER]), {
        'oci-filters-applied': 'artifactType',
      }),
    );

    const descriptors = await client().listReferrers('app', SUBJECT_DIGEST, COSIGN_SIGNATURE);

    expect(descriptors).toEqual([COSIGN_REFERRER]);
  });

  it('drops entries a registry claims to have filtered out', async () => {
    registry.handle((_request, response) =>
      sendJson(response, 200, index([COSIGN_REFERRER, SBOM_REFERRER]), {
        'oci-filters-applied': 'artifactType',
      }),
    );

    const descriptors = await client().listReferrers('app', SUBJECT_DIGEST, COSIGN_SIGNATURE);

    expect(descriptors).toEqual([COSIGN_REFERRER]);
  });

  it('follows Link pages', async () => {
    registry.handle((_request, response, recorded) => {
      if (recorded.query.get('page') === '2') {
        sendJson(response, 200, index([SBOM_REFERRER]));
        return;
      }
      sendJson(response, 200, index([COSIGN_REFERRER]), {
        link: `<${REFERRERS_PATH}?page=2>; rel="next"`,
      });
    });

    const descriptors = await client().listReferrers('app', SUBJECT_DIGEST);

    expect(descriptors).toEqual([COSIGN_REFERRER, SBOM_REFERRER]);
    expect(registry.requests.map((request) => request.url)).toEqual([
      REFERRERS_PATH,
      `${REFERRERS_PATH}?page=2`,
    ]);
  });

  it('rejects a Link page on another origin', async () => {
    registry.handle((_request, response) =>
      sendJson(response, 200, index([COSIGN_REFERRER]), {
        link: `<${elsewhere.origin}${REFERRERS_PATH}?page=2>; rel="next"`,
      }),
    );

    const error = await catchRegistryError(client().listReferrers('app', SUBJECT_DIGEST));

    expect(error.code).toBe('forbidden-origin');
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('rejects more descriptors than maxReferrers', async () => {
    registry.handle((_request, response) =>
      sendJson(response, 200, index([COSIGN_REFERRER, NOTATION_REFERRER, SBOM_REFERRER])),
    );

    const error = await catchRegistryError(
      client({ maxReferrers: 2 }).listReferrers('app', SUBJECT_DIGEST),
    );

    expect(error.code).toBe('too-large');
    expect(error.message).toContain('more than 2 descriptors');
  });

  it('counts descriptors across pages', async () => {
    registry.handle((_request, response, recorded) => {
      const page = Number(recorded.query.get('page') ?? '1');
      sendJson(response, 200, index([referrer(SBOM, `sbom-${page}`)]), {
        link: `<${REFERRERS_PATH}?page=${page + 1}>; rel="next"`,
      });
    });

    const error = await catchRegistryError(
      client({ maxReferrers: 3 }).listReferrers('app', SUBJECT_DIGEST),
    );

    expect(error.code).toBe('too-large');
    expect(registry.requests).toHaveLength(4);
  });

  it('rejects an invalid descriptor', async () => {
    registry.handle((_request, response) =>
      sendJson(response, 200, index([{ ...COSIGN_REFERRER, digest: 'sha256:xyz' }])),
    );

    const error = await catchRegistryError(client().listReferrers('app', SUBJECT_DIGEST));

    expect(error.code).toBe('invalid-response');
    expect(error.message).toContain('manifests[0].digest');
  });

  it('rejects a response without manifests', async () => {
    registry.handle((_request, response) => sendJson(response, 200, { schemaVersion: 2 }));

    const error = await catchRegistryError(client().listReferrers('app', SUBJECT_DIGEST));

    expect(error.code).toBe('invalid-response');
    expect(error.message).toContain('manifests');
  });

  it('rejects an invalid artifact type before any request', async () => {
    registry.handle((_request, response) => sendJson(response, 200, index([])));

    const error = await catchRegistryError(
      client().listReferrers('app', SUBJECT_DIGEST, 'not a media type&x=1'),
    );

    expect(error.code).toBe('invalid-argument');
    expect(registry.requests).toHaveLength(0);
  });
});

describe('listReferrers with the tag schema fallback', () => {
  it('reads the sha256-<hex> tag after a 404', async () => {
    registry.handle((_request, response, recorded) => {
      if (recorded.path === FALLBACK_PATH) {
        sendJson(response, 200, index([COSIGN_REFERRER, SBOM_REFERRER]), {
          'content-type': MediaType.OCI_INDEX,
        });
        return;
      }
      sendRegistryError(response, 404, 'NAME_UNKNOWN');
    });

    const descriptors = await client().listReferrers('app', SUBJECT_DIGEST);

    expect(descriptors).toEqual([COSIGN_REFERRER, SBOM_REFERRER]);
    expect(registry.requests.map((request) => request.path)).toEqual([
      REFERRERS_PATH,
      FALLBACK_PATH,
    ]);
  });

  it('filters the fallback index client-side', async () => {
    registry.handle((_request, response, recorded) => {
      if (recorded.path === FALLBACK_PATH) {
        sendJson(response, 200, index([COSIGN_REFERRER, SBOM_REFERRER]), {
          'content-type': MediaType.OCI_INDEX,
        });
        return;
      }
      sendRegistryError(response, 404, 'NAME_UNKNOWN');
    });

    const descriptors = await client().listReferrers('app', SUBJECT_DIGEST, SBOM);

    expect(descriptors).toEqual([SBOM_REFERRER]);
  });

  it('returns an empty list when the tag is missing', async () => {
    registry.handle((_request, response) => sendRegistryError(response, 404, 'MANIFEST_UNKNOWN'));

    const descriptors = await client().listReferrers('app', SUBJECT_DIGEST);

    expect(descriptors).toEqual([]);
    expect(registry.requests).toHaveLength(2);
  });

  it('rejects a fallback tag that is not an OCI index', async () => {
    registry.handle((_request, response, recorded) => {
      if (recorded.path === FALLBACK_PATH) {
        sendJson(response, 200, index([]), { 'content-type': MediaType.OCI_MANIFEST });
        return;
      }
      sendRegistryError(response, 404, 'NAME_UNKNOWN');
    });

    const error = await catchRegistryError(client().listReferrers('app', SUBJECT_DIGEST));

    expect(error.code).toBe('invalid-response');
    expect(error.message).toContain(`sha256-${SUBJECT_HEX}`);
  });

  it('applies maxReferrers to the fallback index', async () => {
    registry.handle((_request, response, recorded) => {
      if (recorded.path === FALLBACK_PATH) {
        sendJson(response, 200, index([COSIGN_REFERRER, SBOM_REFERRER]), {
          'content-type': MediaType.OCI_INDEX,
        });
        return;
      }
      sendRegistryError(response, 404, 'NAME_UNKNOWN');
    });

    const error = await catchRegistryError(
      client({ maxReferrers: 1 }).listReferrers('app', SUBJECT_DIGEST),
    );

    expect(error.code).toBe('too-large');
  });

  it('does not fall back on other errors', async () => {
    registry.handle((_request, response) => sendRegistryError(response, 403, 'DENIED'));

    const error = await catchRegistryError(client().listReferrers('app', SUBJECT_DIGEST));

    expect(error.code).toBe('forbidden');
    expect(registry.requests).toHaveLength(1);
  });
});
