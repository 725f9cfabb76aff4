import { OciError, quoteValue } from './errors';

describe('OciError', () => {
  it('carries code, name, message and cause', () => {
    const cause = new Error('inner');
    const error = new OciError('invalid-json', 'Invalid manifest.', { cause });

    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('invalid-json');
    expect(error.name).toBe('OciError');
    expect(error.message).toBe('Invalid manifest.');
    expect(error.cause).toBe(cause);
  });
});

describe('quoteValue', () => {
  it('quotes strings', () => {
    expect(quoteValue('a"b')).toBe('"a\\"b"');
  });

  it('writes other values as JSON', () => {
    expect(quoteValue(-1)).toBe('-1');
    expect(quoteValue(null)).toBe('null');
    expect(quoteValue({ a: 1 })).toBe('{"a":1}');
  });

  it('cuts long values to 80 characters', () => {
    expect(quoteValue('x'.repeat(500))).toBe(`"${'x'.repeat(80)}..."`);
  });
});
