// Bounded waits for tests: nothing here waits for ever.

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until predicate() holds; throws after `ms`. */
export async function until(predicate: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Waits until read() matches pattern and returns what it read; throws after `ms` with what was read. */
export async function waitFor(read: () => string, pattern: RegExp, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const text = read();
    if (pattern.test(text)) return text;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${pattern}; log so far:\n${read()}`);
}
