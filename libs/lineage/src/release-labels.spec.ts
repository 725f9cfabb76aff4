import { compareReleases, compareVersions, readRelease } from './release-labels';

describe('compareVersions', () => {
  it.each([
    ['1.0', '1.0', 0],
    ['1.10', '1.9', 1],
    ['1.9', '1.10', -1],
    ['8.4', '8.4.1', -1],
    ['2.0', '2.0a', -1],
    ['1.0a', '1.0b', -1],
    ['1.01', '1.1', 0],
    ['10', 'a', 1],
  ])('orders %s against %s as %i', (left, right, expected) => {
    expect(Math.sign(compareVersions(left, right))).toBe(expected);
  });
});

describe('compareReleases', () => {
  it('uses the release when versions tie', () => {
    expect(
      compareReleases({ version: '8.4', release: '205' }, { version: '8.4', release: '210' }),
    ).toBeLessThan(0);
  });

  it('does not order different products', () => {
    expect(
      compareReleases({ version: '1', name: 'ubi8' }, { version: '2', name: 'ubi9' }),
    ).toBeUndefined();
  });
});

describe('readRelease', () => {
  it('reads Red Hat and OCI labels', () => {
    expect(readRelease({ version: '8.4', release: '205', name: 'ubi8' })).toEqual({
      version: '8.4',
      release: '205',
      name: 'ubi8',
    });
    expect(readRelease({ 'org.opencontainers.image.version': '3.19.1' })).toEqual({
      version: '3.19.1',
      release: undefined,
      name: undefined,
    });
  });

  it('returns nothing without a version', () => {
    expect(readRelease({ release: '1' })).toBeUndefined();
  });
});
