import { createHash } from 'node:crypto';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';

import { InvalidImageError } from './errors';
import { runCommand } from './processes';

export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/** An image in an OCI layout directory, addressed by the tag (ref.name) in its index.json. */
export interface BuiltImage {
  layoutDir: string;
  tag: string;
}

export interface BuildImageOptions {
  /** Parent directory of the new layout. */
  workDir: string;
  /** Name of the layout directory under `workDir`, also used as the image's tag. */
  name: string;
  /** Image to build on. Its layout is copied, so `base` stays unchanged. */
  base?: BuiltImage;
  /** Files of the new layer: absolute or relative path inside the image -> UTF-8 content. */
  files: Record<string, string>;
  /** Config labels, added to those inherited from `base`. */
  labels?: Record<string, string>;
  /** Manifest annotations, e.g. org.opencontainers.image.base.name. Not inherited from `base`. */
  annotations?: Record<string, string>;
  user?: string;
  architecture?: string;
  os?: string;
}

export interface OciDescriptor {
  mediaType?: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

export interface OciManifest {
  schemaVersion: number;
  mediaType?: string;
  config: OciDescriptor;
  layers: OciDescriptor[];
  annotations?: Record<string, string>;
}

export interface OciImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  config?: { User?: string; Labels?: Record<string, string> };
  rootfs: { type: string; diff_ids: string[] };
}

export interface LayoutImage {
  /** The descriptor in the layout's index.json; umoci sets its mediaType. */
  descriptor: OciDescriptor;
  manifest: OciManifest;
  config: OciImageConfig;
}

// Tag syntax of the OCI distribution spec; umoci and skopeo accept it as a layout ref.name.
const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/**
 * Builds an OCI image with umoci: a new empty image, or a copy of `base`, plus one layer
 * with `files`, then the config and manifest changes. Manifest digests differ on every
 * build because the config records creation times.
 *
 * The layer is made with `umoci unpack --rootless` and `umoci repack`, because
 * `umoci insert` in umoci 0.4.7 writes layers that GNU tar cannot read.
 */
export async function buildImage(options: BuildImageOptions): Promise<BuiltImage> {
  validateTag(options.name, 'image name');
  const layoutDir = join(options.workDir, options.name);
  if (await pathExists(layoutDir)) {
    throw new InvalidImageError(
      `Cannot build image "${options.name}": ${layoutDir} already exists.`,
    );
  }
  const files = Object.entries(options.files).map(
    ([path, content]) => [rootfsPath(path), content] as const,
  );
  const configArgs = imageConfigArgs(options);

  try {
    await buildLayout(layoutDir, options, files, configArgs);
  } catch (error) {
    await rm(layoutDir, { recursive: true, force: true });
    throw error;
  }
  return { layoutDir, tag: options.name };
}

async function buildLayout(
  layoutDir: string,
  options: BuildImageOptions,
  files: ReadonlyArray<readonly [string, string]>,
  configArgs: string[],
): Promise<void> {
  let sourceTag: string;
  if (options.base === undefined) {
    await umoci(['init', '--layout', layoutDir]);
    await umoci(['new', '--image', `${layoutDir}:${options.name}`]);
    sourceTag = options.name;
  } else {
    await cp(options.base.layoutDir, layoutDir, { recursive: true });
    sourceTag = options.base.tag;
  }

  const bundleDir = await mkdtemp(join(options.workDir, `.bundle-${options.name}-`));
  try {
    // umoci unpack wants to create the bundle directory itself.
    await rm(bundleDir, { recursive: true });
    await umoci(['unpack', '--rootless', '--image', `${layoutDir}:${sourceTag}`, bundleDir]);
    for (const [path, content] of files) {
      const target = join(bundleDir, 'rootfs', path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
    await umoci(['repack', '--image', `${layoutDir}:${options.name}`, bundleDir]);
  } finally {
    await rm(bundleDir, { recursive: true, force: true });
  }

  if (configArgs.length > 0) {
    await umoci(['config', '--image', `${layoutDir}:${options.name}`, ...configArgs]);
  }
}

function imageConfigArgs(options: BuildImageOptions): string[] {
  const args: string[] = [];
  if (options.base !== undefined) {
    // A manifest annotation such as base.digest describes that one manifest, so a derived
    // image does not inherit it. Config labels are inherited, as docker build does.
    args.push('--clear=manifest.annotations');
  }
  for (const [key, value] of Object.entries(options.labels ?? {})) {
    validateKey(key, 'label');
    args.push(`--config.label=${key}=${value}`);
  }
  for (const [key, value] of Object.entries(options.annotations ?? {})) {
    validateKey(key, 'annotation');
    args.push(`--manifest.annotation=${key}=${value}`);
  }
  if (options.user !== undefined) {
    args.push(`--config.user=${options.user}`);
  }
  if (options.architecture !== undefined) {
    args.push(`--architecture=${options.architecture}`);
  }
  if (options.os !== undefined) {
    args.push(`--os=${options.os}`);
  }
  return args;
}

/** Reads the manifest and config of `image` from its layout's blobs. */
export async function readLayoutImage(image: BuiltImage): Promise<LayoutImage> {
  const indexPath = join(image.layoutDir, 'index.json');
  const index = await readJson<{ manifests?: OciDescriptor[] }>(indexPath);
  const descriptor = (index.manifests ?? []).find(
    (entry) => entry.annotations?.[REF_NAME_ANNOTATION] === image.tag,
  );
  if (descriptor === undefined) {
    throw new InvalidImageError(`Tag "${image.tag}" not found in ${indexPath}.`);
  }
  const manifest = await readJson<OciManifest>(blobPath(image.layoutDir, descriptor.digest));
  const config = await readJson<OciImageConfig>(blobPath(image.layoutDir, manifest.config.digest));
  return { descriptor, manifest, config };
}

export interface PushImageOptions {
  /** Push to `repository@<digest>` so that the registry records no tag; `tag` is then unused. */
  pushByDigest?: boolean;
}

/**
 * Pushes `image` with `skopeo copy` over plain HTTP and returns the manifest digest that
 * skopeo reports (--digestfile).
 */
export async function pushImage(
  image: BuiltImage,
  registryHost: string,
  repository: string,
  tag: string,
  options: PushImageOptions = {},
): Promise<string> {
  let destination: string;
  if (options.pushByDigest === true) {
    // skopeo 1.9 accepts a digest destination when the manifest it writes has that digest,
    // which holds for umoci's gzip layers because skopeo copies them unchanged.
    const { descriptor } = await readLayoutImage(image);
    destination = `docker://${registryHost}/${repository}@${descriptor.digest}`;
  } else {
    validateTag(tag, 'tag');
    destination = `docker://${registryHost}/${repository}:${tag}`;
  }
  return skopeoCopy(ociReference(image.layoutDir, image.tag), destination, []);
}

/**
 * Writes an OCI image index over `images` (one entry per image, platform taken from each
 * config) into a new layout under `workDir`, pushes it with `skopeo copy --all`, and
 * returns the index digest.
 */
export async function pushIndex(
  images: BuiltImage[],
  workDir: string,
  registryHost: string,
  repository: string,
  tag: string,
): Promise<string> {
  validateTag(tag, 'tag');
  if (images.length === 0) {
    throw new InvalidImageError(`Cannot push index ${repository}:${tag}: no images given.`);
  }
  const layoutDir = await mkdtemp(join(workDir, `index-${tag}-`));
  await mkdir(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));

  const entries: OciDescriptor[] = [];
  for (const image of images) {
    const { descriptor, manifest, config } = await readLayoutImage(image);
    const digests = [
      descriptor.digest,
      manifest.config.digest,
      ...manifest.layers.map((layer) => layer.digest),
    ];
    for (const digest of digests) {
      await copyFile(blobPath(image.layoutDir, digest), blobPath(layoutDir, digest));
    }
    const platform: OciDescriptor['platform'] = {
      architecture: config.architecture,
      os: config.os,
    };
    if (config.variant !== undefined) {
      platform.variant = config.variant;
    }
    entries.push({
      mediaType: descriptor.mediaType ?? OCI_MANIFEST_MEDIA_TYPE,
      digest: descriptor.digest,
      size: descriptor.size,
      platform,
    });
  }

  const indexBytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX_MEDIA_TYPE, manifests: entries }),
  );
  const indexDigest = `sha256:${createHash('sha256').update(indexBytes).digest('hex')}`;
  await writeFile(blobPath(layoutDir, indexDigest), indexBytes);
  const layoutIndex = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: OCI_INDEX_MEDIA_TYPE,
        digest: indexDigest,
        size: indexBytes.length,
        annotations: { [REF_NAME_ANNOTATION]: tag },
      },
    ],
  };
  await writeFile(join(layoutDir, 'index.json'), JSON.stringify(layoutIndex));

  return skopeoCopy(ociReference(layoutDir, tag), `docker://${registryHost}/${repository}:${tag}`, [
    '--all',
  ]);
}

async function skopeoCopy(
  source: string,
  destination: string,
  extraArgs: string[],
): Promise<string> {
  const tempDir = await mkdtemp(join(tmpdir(), 'skopeo-digest-'));
  const digestFile = join(tempDir, 'digest');
  try {
    // --insecure-policy: the test images are unsigned, and the machine's
    // /etc/containers/policy.json may require signatures.
    await runCommand('skopeo', [
      'copy',
      '--insecure-policy',
      '--dest-tls-verify=false',
      '--digestfile',
      digestFile,
      ...extraArgs,
      source,
      destination,
    ]);
    const digest = (await readFile(digestFile, 'utf8')).trim();
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) {
      throw new InvalidImageError(`skopeo wrote an invalid digest "${digest}" for ${destination}.`);
    }
    return digest;
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}

async function umoci(args: string[]): Promise<void> {
  await runCommand('umoci', args);
}

function ociReference(layoutDir: string, tag: string): string {
  // skopeo splits "oci:<path>:<ref>" at the first colon after the path.
  if (layoutDir.includes(':')) {
    throw new InvalidImageError(`OCI layout path "${layoutDir}" must not contain ":".`);
  }
  return `oci:${layoutDir}:${tag}`;
}

function blobPath(layoutDir: string, digest: string): string {
  const match = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (match === null) {
    throw new InvalidImageError(`Unsupported digest "${digest}" in ${layoutDir}: expected sha256.`);
  }
  return join(layoutDir, 'blobs', 'sha256', match[1]);
}

/** Returns `path` relative to the image root, rejecting paths that leave it. */
function rootfsPath(path: string): string {
  const normalized = posix.normalize(path.replace(/^\/+/, ''));
  const leavesRoot = normalized === '..' || normalized.startsWith('../');
  if (normalized === '.' || normalized === '' || leavesRoot || normalized.endsWith('/')) {
    throw new InvalidImageError(
      `Invalid file path "${path}": expected a file path inside the image.`,
    );
  }
  return normalized;
}

function validateTag(value: string, fieldName: string): void {
  if (!TAG_PATTERN.test(value)) {
    throw new InvalidImageError(
      `Invalid ${fieldName} "${value}": expected 1-128 characters of [A-Za-z0-9_.-], not starting with "." or "-".`,
    );
  }
}

function validateKey(key: string, fieldName: string): void {
  // umoci splits "key=value" at the first "=".
  if (key === '' || key.includes('=')) {
    throw new InvalidImageError(
      `Invalid ${fieldName} key "${key}": it must be non-empty and contain no "=".`,
    );
  }
}

async function readJson<T>(path: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InvalidImageError(`Cannot read ${path}.`, error);
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new InvalidImageError(`Invalid JSON in ${path}.`, error);
  }
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return false;
    }
    throw error;
  }
}
