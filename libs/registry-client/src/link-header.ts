/** One link of an HTTP `Link` header (RFC 8288). */
export interface HeaderLink {
  /** Target URI as written between `<` and `>`, possibly relative. */
  target: string;
  /** Relation types of the `rel` parameter, lowercased. */
  relations: string[];
}

/**
 * Parses a `Link` header value such as `</v2/_catalog?last=b&n=2>; rel="next"`. Links are
 * separated by commas outside quotes and angle brackets. Parsing stops at a link without a
 * closing `>`.
 */
export function parseLinkHeader(header: string): HeaderLink[] {
  const links: HeaderLink[] = [];
  let position = 0;

  while (position < header.length) {
    const open = header.indexOf('<', position);
    if (open === -1) {
      break;
    }
    const close = header.indexOf('>', open + 1);
    if (close === -1) {
      break;
    }
    const target = header.slice(open + 1, close).trim();
    const paramsEnd = findLinkEnd(header, close + 1);
    const relations = readRelations(header.slice(close + 1, paramsEnd));
    links.push({ target, relations });
    position = paramsEnd + 1;
  }
  return links;
}

/** Returns the target of the first link whose relation types include `next`. */
export function findNextLink(header: string | null): string | undefined {
  if (header === null) {
    return undefined;
  }
  return parseLinkHeader(header).find((link) => link.relations.includes('next'))?.target;
}

/** Returns the index of the comma that ends the parameters starting at `start`, or the length. */
function findLinkEnd(header: string, start: number): number {
  let quoted = false;
  for (let index = start; index < header.length; index += 1) {
    const character = header[index];
    if (quoted && character === '\\') {
      index += 1;
    } else if (character === '"') {
      quoted = !quoted;
    } else if (character === ',' && !quoted) {
      return index;
    }
  }
  return header.length;
}

function readRelations(params: string): string[] {
  const match = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
  if (match === null) {
    return [];
  }
  const value = match[1] ?? match[2] ?? '';
  return value
    .toLowerCase()
    .split(/\s+/)
    .filter((relation) => relation !== '');
}
