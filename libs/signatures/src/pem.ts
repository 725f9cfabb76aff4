import { SignatureError } from './errors';

/** One PEM block: its label (`CERTIFICATE`, `PUBLIC KEY`) and the decoded DER bytes. */
export interface PemBlock {
  label: string;
  der: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]*?)-----END \1-----/g;

/**
 * Splits PEM text into blocks. Only whitespace may sit between and around blocks, so a
 * file with stray text or a damaged block is rejected instead of half read.
 */
export function parsePemBlocks(text: string, description: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  let end = 0;
  for (const match of text.matchAll(BLOCK)) {
    const between = text.slice(end, match.index);
    if (between.trim() !== '') {
      throw new SignatureError(
        'pem-invalid',
        `${description} contains text outside PEM blocks at offset ${end}`,
      );
    }
    blocks.push({
      label: match[1] ?? '',
      der: Buffer.from((match[2] ?? '').replace(/\s+/g, ''), 'base64'),
    });
    end = (match.index ?? 0) + match[0].length;
  }
  if (text.slice(end).trim() !== '') {
    throw new SignatureError(
      'pem-invalid',
      `${description} contains text outside PEM blocks at offset ${end}`,
    );
  }
  return blocks;
}

/**
 * Reads exactly one PEM block with the given label. A trailing blank line is fine, but a second
 * block is rejected: a file meant to hold one key or certificate must not smuggle in another.
 */
export function parseSinglePem(text: string, label: string, description: string): Buffer {
  const blocks = parsePemBlocks(text, description);
  if (blocks.length !== 1) {
    throw new SignatureError(
      'pem-invalid',
      `${description} must contain exactly one PEM block, found ${blocks.length}`,
    );
  }
  const [block] = blocks as [PemBlock];
  if (block.label !== label) {
    throw new SignatureError(
      'pem-invalid',
      `${description} is a PEM "${block.label}" block, expected "${label}"`,
    );
  }
  return block.der;
}
