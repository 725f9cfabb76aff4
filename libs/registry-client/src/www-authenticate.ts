/** One authentication challenge of a `WWW-Authenticate` header (RFC 9110, section 11.6.1). */
export interface AuthChallenge {
  /** Scheme in lowercase, such as `bearer` or `basic`. */
  scheme: string;
  /** Auth parameters by lowercase name, with quoted strings unescaped. */
  params: Record<string, string>;
}

const TOKEN_CHARACTER = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

class HeaderScanner {
  position = 0;

  constructor(private readonly text: string) {}

  get done(): boolean {
    return this.position >= this.text.length;
  }

  peek(): string {
    return this.text[this.position] ?? '';
  }

  skipWhitespace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') {
      this.position += 1;
    }
  }

  skipWhitespaceAndCommas(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === ',') {
      this.position += 1;
    }
  }

  readToken(): string {
    const start = this.position;
    while (!this.done && TOKEN_CHARACTER.test(this.peek())) {
      this.position += 1;
    }
    return this.text.slice(start, this.position);
  }

  /** Reads a quoted string after its opening quote and returns it unescaped. */
  readQuotedString(): string {
    this.position += 1;
    let value = '';
    while (!this.done && this.peek() !== '"') {
      if (this.peek() === '\\') {
        this.position += 1;
      }
      value += this.peek();
      this.position += 1;
    }
    this.position += 1;
    return value;
  }
}

/**
 * Parses a `WWW-Authenticate` value into its challenges. Several challenges may share one
 * value, separated by commas, as when a client library joins repeated headers. Token68
 * credentials (RFC 9110) are not parsed, because Bearer and Basic challenges of registries
 * carry auth parameters only. Text that fits neither form is skipped.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const scanner = new HeaderScanner(header);
  const challenges: AuthChallenge[] = [];

  while (true) {
    scanner.skipWhitespaceAndCommas();
    if (scanner.done) {
      break;
    }
    const scheme = scanner.readToken();
    if (scheme === '') {
      scanner.position += 1;
      continue;
    }
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    readParams(scanner, challenge);
  }
  return challenges;
}

/** Reads `name=value` pairs until the text ends or a token that starts the next challenge. */
function readParams(scanner: HeaderScanner, challenge: AuthChallenge): void {
  while (true) {
    scanner.skipWhitespaceAndCommas();
    const start = scanner.position;
    const name = scanner.readToken();
    scanner.skipWhitespace();
    if (name === '' || scanner.peek() !== '=') {
      scanner.position = start;
      return;
    }
    scanner.position += 1;
    scanner.skipWhitespace();
    const value = scanner.peek() === '"' ? scanner.readQuotedString() : scanner.readToken();
    challenge.params[name.toLowerCase()] = value;
  }
}
