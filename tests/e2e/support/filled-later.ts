/**
 * A read-only view of `fields`, which a test file's beforeAll fills in:
 * reading one that is still unset (outside a test) throws rather than
 * handing `undefined` to the test.
 */
export function filledLater<T extends object>(fields: Partial<T>, owner: string): Readonly<T> {
  return new Proxy(fields, {
    get(target, key) {
      const value = (target as Record<string | symbol, unknown>)[key];
      if (value === undefined) throw new Error(`${owner}: ${String(key)} read before beforeAll set it`);
      return value;
    },
  }) as Readonly<T>;
}
