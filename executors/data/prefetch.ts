/**
 * Yields the results of `producers` in order while keeping up to `depth` of them started ahead, so
 * the next batches are being made while the consumer works on this one. A consumer that stops early
 * leaves the started ones to finish on their own; their results, and failures, are dropped.
 */
export async function* prefetch<T>(producers: Iterable<() => Promise<T>>, depth: number): AsyncGenerator<T> {
  if (!Number.isInteger(depth) || depth < 1) throw new Error(`prefetch needs a positive whole depth, got ${depth}`);
  const iterator = producers[Symbol.iterator]();
  const ahead: Promise<T>[] = [];
  let exhausted = false;
  const fill = () => {
    while (!exhausted && ahead.length < depth) {
      const next = iterator.next();
      if (next.done) exhausted = true;
      else ahead.push(start(next.value));
    }
  };
  try {
    fill();
    while (ahead.length > 0) {
      const result = await ahead.shift()!;
      fill();
      yield result;
    }
  } finally {
    if (!exhausted) iterator.return?.();
  }
}

/**
 * Starts one producer. A producer that throws counts as one that rejects, and the rejection is
 * marked handled at once: it may come while an earlier result is still being consumed, or after the
 * consumer has stopped, and either would otherwise be an unhandled rejection.
 */
function start<T>(producer: () => Promise<T>): Promise<T> {
  const promise = new Promise<T>((resolve) => resolve(producer()));
  promise.catch(() => undefined);
  return promise;
}
