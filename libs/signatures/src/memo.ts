/**
 * Wraps a parser of trust material (keyrings, root certificates, trusted roots) so that each
 * distinct input is parsed once per process instead of once per verification. The cache is keyed
 * by the input text and bounded: when full, the oldest entry is dropped. A rejected promise is
 * not kept, so a transient failure is retried on the next call.
 */
export function memoizeByText<T>(
  parse: (text: string) => T,
  maxEntries = 256,
): (text: string) => T {
  const cache = new Map<string, T>();
  return (text: string): T => {
    if (cache.has(text)) return cache.get(text) as T;
    const value = parse(text);
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(text, value);
    if (value instanceof Promise) {
      value.catch(() => {
        if (cache.get(text) === value) cache.delete(text);
      });
    }
    return value;
  };
}
