/** Labels that carry a release version, in the order they are read. */
const VERSION_LABELS = ['version', 'Version', 'org.opencontainers.image.version'];
const RELEASE_LABELS = ['release', 'Release'];
/** Labels that name the product, so that releases of different products are not compared. */
const NAME_LABELS = ['name', 'Name', 'com.redhat.component', 'org.opencontainers.image.title'];

export interface ReleaseInfo {
  version: string;
  release?: string;
  name?: string;
}

/** Reads the Version/Release labels that Red Hat's `atomic verify` compared; undefined without a version. */
export function readRelease(labels: Record<string, string>): ReleaseInfo | undefined {
  const version = firstLabel(labels, VERSION_LABELS);
  if (!version) return undefined;
  return {
    version,
    release: firstLabel(labels, RELEASE_LABELS),
    name: firstLabel(labels, NAME_LABELS),
  };
}

/**
 * Compares two version strings segment by segment, the way rpm's rpmvercmp does: runs of digits
 * compare as numbers, runs of letters as strings, and a numeric run is newer than an alphabetic
 * one. Returns a negative number, zero or a positive number.
 */
export function compareVersions(left: string, right: string): number {
  const a = left.match(/\d+|[a-zA-Z]+/g) ?? [];
  const b = right.match(/\d+|[a-zA-Z]+/g) ?? [];
  for (let index = 0; index < Math.min(a.length, b.length); index += 1) {
    const x = a[index];
    const y = b[index];
    const xNumeric = /^\d/.test(x);
    const yNumeric = /^\d/.test(y);
    if (xNumeric !== yNumeric) return xNumeric ? 1 : -1;
    const order = xNumeric ? compareNumeric(x, y) : x < y ? -1 : x > y ? 1 : 0;
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

/** Orders two releases by version, then by release; releases of other products are not ordered. */
export function compareReleases(left: ReleaseInfo, right: ReleaseInfo): number | undefined {
  if (left.name && right.name && left.name !== right.name) return undefined;
  const byVersion = compareVersions(left.version, right.version);
  if (byVersion !== 0) return byVersion;
  return compareVersions(left.release ?? '', right.release ?? '');
}

function compareNumeric(x: string, y: string): number {
  const a = x.replace(/^0+/, '');
  const b = y.replace(/^0+/, '');
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function firstLabel(labels: Record<string, string>, keys: string[]): string | undefined {
  for (const key of keys) {
    const value = labels[key];
    if (value) return value;
  }
  return undefined;
}
