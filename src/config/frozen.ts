// Deep freezing of a configuration snapshot. Object.freeze does not stop Map.set, and it throws on a
// Buffer with elements, so maps are built as FrozenMap and Buffers are left as they are (they are
// never handed out for writing: encoders copy from them).

/** A Map that refuses changes once constructed. */
export class FrozenMap<K, V> extends Map<K, V> {
  #sealed = false;

  constructor(entries?: Iterable<readonly [K, V]>) {
    super();
    if (entries) for (const [key, value] of entries) super.set(key, value);
    this.#sealed = true;
  }

  override set(key: K, value: V): this {
    if (this.#sealed) throw new TypeError('the configuration is read-only');
    return super.set(key, value);
  }

  override delete(): boolean {
    throw new TypeError('the configuration is read-only');
  }

  override clear(): void {
    throw new TypeError('the configuration is read-only');
  }
}

/** Freezes plain objects and arrays all the way down; Maps are frozen by FrozenMap, Buffers are skipped. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value) || Object.isFrozen(value)) return value;
  if (value instanceof Map) {
    for (const v of value.values()) deepFreeze(v);
    return Object.freeze(value);
  }
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return Object.freeze(value);
}
