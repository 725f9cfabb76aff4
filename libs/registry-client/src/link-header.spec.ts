import { findNextLink, parseLinkHeader } from './link-header';

describe('parseLinkHeader', () => {
  it('parses the Link of Distribution', () => {
    expect(parseLinkHeader('</v2/_catalog?last=b&n=2>; rel="next"')).toEqual([
      { target: '/v2/_catalog?last=b&n=2', relations: ['next'] },
    ]);
  });

  it('parses several links and relation lists', () => {
    const links = parseLinkHeader(
      '<https://r.example/v2/a/tags/list?last=x>; rel="next last", </v2/a/tags/list>; rel=first; title="a, b"',
    );

    expect(links).toEqual([
      { target: 'https://r.example/v2/a/tags/list?last=x', relations: ['next', 'last'] },
      { target: '/v2/a/tags/list', relations: ['first'] },
    ]);
  });

  it('treats a link without rel as having no relations', () => {
    expect(parseLinkHeader('</v2/_catalog?last=b>')).toEqual([
      { target: '/v2/_catalog?last=b', relations: [] },
    ]);
  });

  it('stops at a link without closing bracket', () => {
    expect(parseLinkHeader('</v2/_catalog?last=b; rel="next"')).toEqual([]);
  });
});

describe('findNextLink', () => {
  it('returns the target of rel next', () => {
    expect(findNextLink('</prev>; rel="prev", </next>; REL="Next"')).toBe('/next');
  });

  it('returns undefined without a header', () => {
    expect(findNextLink(null)).toBeUndefined();
  });

  it('returns undefined without rel next', () => {
    expect(findNextLink('</prev>; rel="prev"')).toBeUndefined();
  });
});
