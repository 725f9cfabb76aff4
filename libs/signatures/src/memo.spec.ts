import { memoizeByText } from './memo';

describe('memoizeByText', () => {
  it('parses each text once', () => {
    const parse = jest.fn((text: string) => ({ text }));
    const cached = memoizeByText(parse);

    const first = cached('a');
    const again = cached('a');
    cached('b');

    expect(again).toBe(first);
    expect(parse).toHaveBeenCalledTimes(2);
  });

  it('drops the oldest entry when full', () => {
    const parse = jest.fn((text: string) => text.length);
    const cached = memoizeByText(parse, 2);

    cached('a');
    cached('bb');
    cached('ccc');
    cached('a');

    expect(parse).toHaveBeenCalledTimes(4);
  });

  it('does not keep a rejected promise', async () => {
    let calls = 0;
    const cached = memoizeByText(async () => {
      calls += 1;
      if (calls === 1) throw new Error('transient');
      return 'ok';
    });

    await expect(cached('x')).rejects.toThrow('transient');
    await expect(cached('x')).resolves.toBe('ok');
  });

  it('rethrows a synchronous parse error without caching it', () => {
    const cached = memoizeByText((text: string) => {
      if (text === 'bad') throw new Error('invalid');
      return text;
    });

    expect(() => cached('bad')).toThrow('invalid');
    expect(() => cached('bad')).toThrow('invalid');
  });
});
