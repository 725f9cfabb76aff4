import {
  invalidField,
  isJsonObject,
  JsonDocument,
  readDigest,
  readOptionalString,
  readOptionalStringArray,
  readString,
  readStringMap,
} from './json';

/** Target platform of an index entry. `osVersion` and `osFeatures` are `os.version` and `os.features` in JSON. */
export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  osVersion?: string;
  osFeatures?: string[];
}

/** Reference to content by media type, digest and size, as in image-spec `descriptor.md`. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: Platform;
  urls?: string[];
}

/**
 * Validates one descriptor at `path` of a document. Unknown fields are ignored, as the
 * image-spec requires. `data` is not read, so content embedded in a descriptor is never trusted.
 */
export function parseDescriptor(document: JsonDocument, value: unknown, path: string): Descriptor {
  if (!isJsonObject(value)) {
    throw invalidField(document, path, 'must be a descriptor object', value);
  }

  const mediaType = readString(document, value.mediaType, `${path}.mediaType`);
  if (mediaType === '') {
    throw invalidField(document, `${path}.mediaType`, 'must not be empty', mediaType);
  }
  const digest = readDigest(document, value.digest, `${path}.digest`);
  const size = value.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalidField(document, `${path}.size`, 'must be a non-negative integer', size);
  }

  const annotations = readStringMap(document, value.annotations, `${path}.annotations`);
  const artifactType = readOptionalString(document, value.artifactType, `${path}.artifactType`);
  const urls = readOptionalStringArray(document, value.urls, `${path}.urls`);
  const platform =
    value.platform === undefined
      ? undefined
      : parsePlatform(document, value.platform, `${path}.platform`);

  return {
    mediaType,
    digest,
    size,
    ...(annotations !== undefined && { annotations }),
    ...(artifactType !== undefined && { artifactType }),
    ...(platform !== undefined && { platform }),
    ...(urls !== undefined && { urls }),
  };
}

function parsePlatform(document: JsonDocument, value: unknown, path: string): Platform {
  if (!isJsonObject(value)) {
    throw invalidField(document, path, 'must be an object', value);
  }

  const architecture = readString(document, value.architecture, `${path}.architecture`);
  const os = readString(document, value.os, `${path}.os`);
  const variant = readOptionalString(document, value.variant, `${path}.variant`);
  const osVersion = readOptionalString(document, value['os.version'], `${path}["os.version"]`);
  const osFeatures = readOptionalStringArray(
    document,
    value['os.features'],
    `${path}["os.features"]`,
  );

  return {
    architecture,
    os,
    ...(variant !== undefined && { variant }),
    ...(osVersion !== undefined && { osVersion }),
    ...(osFeatures !== undefined && { osFeatures }),
  };
}
