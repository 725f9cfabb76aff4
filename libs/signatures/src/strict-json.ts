import { StrictJsonError } from './errors';

/** A JSON value as produced by {@link parseStrictJson}. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object as produced by {@link parseStrictJson}. */
export type JsonObject = { [key: string]: JsonValue };

/**
 * Parses JSON text and rejects what JSON.parse silently accepts: duplicate keys and keys
 * that differ only in letter case within one object (Go's decoder matches those
 * case-insensitively, so two parsers would read different values from one signed payload).
 * Also rejects a byte-order mark, trailing content and numbers outside the safe integer range.
 */
export function parseStrictJson(text: string): JsonValue {
  const parser = new StrictJsonParser(text);
  const value = parser.parseDocument();
  return value;
}

/** Returns true for a JSON object (not null, not an array). */
export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const MAX_DEPTH = 64;

class StrictJsonParser {
  private position = 0;

  constructor(private readonly text: string) {}

  parseDocument(): JsonValue {
    this.skipWhitespace();
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.position !== this.text.length) {
      this.fail('unexpected content after the JSON value');
    }
    return value;
  }

  private parseValue(depth: number): JsonValue {
    if (depth > MAX_DEPTH) {
      this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    }
    const char = this.text[this.position];
    switch (char) {
      case '{':
        return this.parseObject(depth);
      case '[':
        return this.parseArray(depth);
      case '"':
        return this.parseString();
      case 't':
        return this.parseLiteral('true', true);
      case 'f':
        return this.parseLiteral('false', false);
      case 'n':
        return this.parseLiteral('null', null);
      default:
        if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) {
          return this.parseNumber();
        }
        return this.fail(
          char === undefined
            ? 'unexpected end of input'
            : `unexpected character ${JSON.stringify(char)}`,
        );
    }
  }

  private parseObject(depth: number): JsonObject {
    this.position += 1;
    // A null-prototype object keeps keys such as "__proto__" as plain data.
    const result = Object.create(null) as JsonObject;
    const lowerCaseKeys = new Map<string, string>();
    this.skipWhitespace();
    if (this.text[this.position] === '}') {
      this.position += 1;
      return result;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.position] !== '"') {
        this.fail('expected a string key');
      }
      const key = this.parseString();
      const folded = key.toLowerCase();
      const earlier = lowerCaseKeys.get(folded);
      if (earlier !== undefined) {
        this.fail(
          earlier === key
            ? `duplicate key ${JSON.stringify(key)}`
            : `keys ${JSON.stringify(earlier)} and ${JSON.stringify(key)} differ only in letter case`,
        );
      }
      lowerCaseKeys.set(folded, key);
      this.skipWhitespace();
      this.expect(':');
      this.skipWhitespace();
      result[key] = this.parseValue(depth + 1);
      this.skipWhitespace();
      const next = this.text[this.position];
      this.position += 1;
      if (next === '}') {
        return result;
      }
      if (next !== ',') {
        this.position -= 1;
        this.fail('expected "," or "}" in object');
      }
    }
  }

  private parseArray(depth: number): JsonValue[] {
    this.position += 1;
    const result: JsonValue[] = [];
    this.skipWhitespace();
    if (this.text[this.position] === ']') {
      this.position += 1;
      return result;
    }
    for (;;) {
      this.skipWhitespace();
      result.push(this.parseValue(depth + 1));
      this.skipWhitespace();
      const next = this.text[this.position];
      this.position += 1;
      if (next === ']') {
        return result;
      }
      if (next !== ',') {
        this.position -= 1;
        this.fail('expected "," or "]" in array');
      }
    }
  }

  private parseString(): string {
    const start = this.position;
    this.position += 1;
    while (this.position < this.text.length) {
      const char = this.text[this.position];
      if (char === '"') {
        this.position += 1;
        try {
          return JSON.parse(this.text.slice(start, this.position)) as string;
        } catch (error) {
          this.position = start;
          return this.fail('invalid string literal', error);
        }
      }
      if (char === '\\') {
        this.position += 2;
        continue;
      }
      if (char < ' ') {
        this.fail('control character inside a string');
      }
      this.position += 1;
    }
    return this.fail('unterminated string');
  }

  private parseNumber(): number {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(
      this.text.slice(this.position),
    );
    if (match === null) {
      return this.fail('invalid number');
    }
    const value = Number(match[0]);
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      this.fail(`integer ${match[0]} is outside the exactly representable range`);
    }
    this.position += match[0].length;
    return value;
  }

  private parseLiteral<T extends JsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.position)) {
      this.fail(`invalid literal, expected ${word}`);
    }
    this.position += word.length;
    return value;
  }

  private expect(char: string): void {
    if (this.text[this.position] !== char) {
      this.fail(`expected ${JSON.stringify(char)}`);
    }
    this.position += 1;
  }

  private skipWhitespace(): void {
    while (this.position < this.text.length) {
      const char = this.text[this.position];
      if (char !== ' ' && char !== '\t' && char !== '\n' && char !== '\r') {
        return;
      }
      this.position += 1;
    }
  }

  private fail(message: string, cause?: unknown): never {
    throw new StrictJsonError(`invalid JSON at offset ${this.position}: ${message}`, { cause });
  }
}
