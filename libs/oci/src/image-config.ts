import { OciError } from './errors';
import {
  invalidField,
  isJsonObject,
  JsonDocument,
  JsonObject,
  parseJsonObject,
  readDigest,
  readOptionalString,
  readOptionalStringArray,
  readStringMap,
  readString,
} from './json';
import { ImageManifest, MAX_ENTRIES } from './manifest';

/** One `history` entry. `emptyLayer` entries (ENV, LABEL, CMD...) have no diff_id. */
export interface ImageHistoryEntry {
  created?: string;
  author?: string;
  createdBy?: string;
  comment?: string;
  emptyLayer: boolean;
}

/**
 * The fields of an OCI or Docker image config that lineage and findings use. `user`, `env`,
 * `labels`, `entrypoint`, `cmd` and `workingDir` come from the nested `config` object, and
 * `diffIds` from `rootfs.diff_ids`.
 */
export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  user?: string;
  env: string[];
  labels: Record<string, string>;
  entrypoint?: string[];
  cmd?: string[];
  workingDir?: string;
  diffIds: string[];
  history: ImageHistoryEntry[];
}

const CONFIG: JsonDocument = { code: 'invalid-config', name: 'image config' };

/**
 * Parses and validates an image config blob. `architecture`, `os` and `rootfs` are required,
 * `rootfs.type` must be `layers` and every diff_id must be a valid digest. Throws `invalid-json`
 * for bytes that are not UTF-8 JSON, `too-many-entries` above {@link MAX_ENTRIES} diff_ids and
 * `invalid-config` for any other error.
 */
export function parseImageConfig(bytes: Uint8Array): ImageConfig {
  const body = parseJsonObject(bytes, CONFIG);
  const runtime = readRuntimeConfig(body.config);

  const variant = readOptionalString(CONFIG, body.variant, 'variant');
  const created = readOptionalString(CONFIG, body.created, 'created');
  const author = readOptionalString(CONFIG, body.author, 'author');
  const user = readOptionalString(CONFIG, runtime.User, 'config.User');
  const entrypoint = readOptionalStringArray(CONFIG, runtime.Entrypoint, 'config.Entrypoint');
  const cmd = readOptionalStringArray(CONFIG, runtime.Cmd, 'config.Cmd');
  const workingDir = readOptionalString(CONFIG, runtime.WorkingDir, 'config.WorkingDir');

  return {
    architecture: readString(CONFIG, body.architecture, 'architecture'),
    os: readString(CONFIG, body.os, 'os'),
    ...(variant !== undefined && { variant }),
    ...(created !== undefined && { created }),
    ...(author !== undefined && { author }),
    ...(user !== undefined && { user }),
    env: readOptionalStringArray(CONFIG, runtime.Env, 'config.Env') ?? [],
    labels: readStringMap(CONFIG, runtime.Labels, 'config.Labels') ?? {},
    ...(entrypoint !== undefined && { entrypoint }),
    ...(cmd !== undefined && { cmd }),
    ...(workingDir !== undefined && { workingDir }),
    diffIds: readDiffIds(body.rootfs),
    history: readHistory(body.history),
  };
}

/** Reads the nested `config` object. It is optional, and Docker writes `null` for an empty one. */
function readRuntimeConfig(value: unknown): JsonObject {
  if (value === undefined || value === null) {
    return {};
  }
  if (!isJsonObject(value)) {
    throw invalidField(CONFIG, 'config', 'must be an object', value);
  }
  return value;
}

function readDiffIds(rootfs: unknown): string[] {
  if (!isJsonObject(rootfs)) {
    throw invalidField(CONFIG, 'rootfs', 'must be an object', rootfs);
  }
  if (rootfs.type !== 'layers') {
    throw invalidField(CONFIG, 'rootfs.type', 'must be "layers"', rootfs.type);
  }

  const diffIds = rootfs.diff_ids;
  if (!Array.isArray(diffIds)) {
    throw invalidField(CONFIG, 'rootfs.diff_ids', 'must be an array of digests', diffIds);
  }
  if (diffIds.length > MAX_ENTRIES) {
    throw new OciError(
      'too-many-entries',
      `Image config has ${diffIds.length} rootfs.diff_ids, more than the maximum of ${MAX_ENTRIES}.`,
    );
  }
  return diffIds.map((diffId, index) => readDigest(CONFIG, diffId, `rootfs.diff_ids[${index}]`));
}

function readHistory(value: unknown): ImageHistoryEntry[] {
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value)) {
    throw invalidField(CONFIG, 'history', 'must be an array', value);
  }
  return value.map((entry, index) => readHistoryEntry(entry, `history[${index}]`));
}

function readHistoryEntry(entry: unknown, path: string): ImageHistoryEntry {
  if (!isJsonObject(entry)) {
    throw invalidField(CONFIG, path, 'must be an object', entry);
  }
  const emptyLayer = entry.empty_layer ?? false;
  if (typeof emptyLayer !== 'boolean') {
    throw invalidField(CONFIG, `${path}.empty_layer`, 'must be a boolean', emptyLayer);
  }

  const created = readOptionalString(CONFIG, entry.created, `${path}.created`);
  const author = readOptionalString(CONFIG, entry.author, `${path}.author`);
  const createdBy = readOptionalString(CONFIG, entry.created_by, `${path}.created_by`);
  const comment = readOptionalString(CONFIG, entry.comment, `${path}.comment`);
  return {
    ...(created !== undefined && { created }),
    ...(author !== undefined && { author }),
    ...(createdBy !== undefined && { createdBy }),
    ...(comment !== undefined && { comment }),
    emptyLayer,
  };
}

/**
 * Throws `layer-mismatch` when the manifest lists a different number of layers than the config
 * lists diff_ids, which means the config does not describe these layers.
 */
export function checkLayersMatchConfig(manifest: ImageManifest, config: ImageConfig): void {
  if (manifest.layers.length !== config.diffIds.length) {
    throw new OciError(
      'layer-mismatch',
      `Manifest lists ${manifest.layers.length} layers but its image config lists ${config.diffIds.length} rootfs.diff_ids; the config does not belong to these layers.`,
    );
  }
}
