import { prefetch } from '../../../executors/data/prefetch';

/** Producers of 0..count-1 that settle after a delay, later ones sooner, recording how many run at once. */
function producers(count: number, fail?: number) {
  const log = { started: 0, running: 0, mostRunning: 0 };
  function* make() {
    for (let i = 0; i < count; i++) {
      yield async () => {
        log.started++;
        log.mostRunning = Math.max(log.mostRunning, ++log.running);
        await new Promise((resolve) => setTimeout(resolve, 2 * (count - i)));
        log.running--;
        if (i === fail) throw new Error(`producer ${i} failed`);
        return i;
      };
    }
  }
  return { log, make };
}

async function collect<T>(values: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const value of values) all.push(value);
  return all;
}

describe('prefetch', () => {
  it('yields every result in order, whatever order they settle in', async () => {
    const { make } = producers(10);
    expect(await collect(prefetch(make(), 3))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('keeps exactly `depth` producers running ahead of a slow consumer, never more', async () => {
    const { log, make } = producers(12);
    const values = prefetch(make(), 3);
    const first = await values.next();
    expect(first.value).toBe(0);
    // While the consumer holds result 0, the next three are under way and no fourth.
    expect(log.started).toBe(4);
    const rest: number[] = [];
    for await (const value of values) {
      rest.push(value);
      expect(log.running).toBeLessThanOrEqual(3);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(rest).toHaveLength(11);
    expect(log.mostRunning).toBe(3);
  });

  it('passes a failure on in its place, and a producer that throws counts as one that rejects', async () => {
    const { make } = producers(5, 2);
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const value of prefetch(make(), 2)) seen.push(value);
      })(),
    ).rejects.toThrow('producer 2 failed');
    expect(seen).toEqual([0, 1]);
    const throwing = [
      () => Promise.resolve(1),
      () => {
        throw new Error('thrown, not rejected');
      },
    ];
    await expect(collect(prefetch(throwing, 2))).rejects.toThrow('thrown, not rejected');
  });

  it('stops asking for producers when the consumer stops, and leaves no unhandled rejection behind', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let closed = false;
      let asked = 0;
      function* failing() {
        try {
          for (let i = 0; ; i++) {
            asked++;
            yield () => (i === 0 ? Promise.resolve(i) : new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`late failure ${i}`)), 5)));
          }
        } finally {
          closed = true;
        }
      }
      for await (const value of prefetch(failing(), 4)) {
        expect(value).toBe(0);
        break;
      }
      expect(closed).toBe(true);
      expect(asked).toBe(5);
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('refuses a depth that is not a positive whole number', async () => {
    await expect(prefetch([], 0).next()).rejects.toThrow('positive whole depth, got 0');
  });
});
