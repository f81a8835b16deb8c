/** A body of `total` zero bytes that counts how much of it was pulled, to show a server stopped reading. */
export function countingBody(total: number): { body: AsyncIterable<Uint8Array>; sent: () => number } {
  let sent = 0;
  async function* chunks() {
    const chunk = new Uint8Array(64 * 1024);
    while (sent < total) {
      sent += chunk.length;
      yield chunk;
    }
  }
  return { body: chunks(), sent: () => sent };
}

/** Waits for a condition the server reaches on its own, for at most two seconds. */
export async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (condition()) return;
    await new Promise((tick) => setTimeout(tick, 20));
  }
  throw new Error('the condition was not reached within 2 s');
}
