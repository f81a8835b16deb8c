import type { ClientBase, Pool } from 'pg';

/**
 * The table every replica's published events go through. It is not an ORM entity: it is a
 * transport, created by the bus itself, and its rows live for minutes.
 *
 * NOTIFY carries only a sequence number; the payload stays in the table. That lifts NOTIFY's
 * 8,000-byte limit and lets a replica that lost its connection read what it missed.
 *
 * Payloads are stored as `text`, not `jsonb`: nothing queries into them, and jsonb rejects a
 * "\u0000" escape, which would make one odd string block the publish queue for good.
 */
export const EVENT_TABLE = 'slimlab_event';
export const EVENT_CHANNEL = 'slimlab_event';

// Advisory lock keys share one space with anything else in the database; these are arbitrary
// values unlikely to meet another user's.
const SCHEMA_LOCK = 7_413_870_001;
/** Whoever appends to the log holds this transaction-level lock until commit (see appendEvents). */
export const APPEND_LOCK = 7_413_870_002;
const PRUNE_LOCK = 7_413_870_003;

export interface PendingEvent {
  /** Numbers this publisher's events; (origin, originSeq) makes a retried batch idempotent. */
  readonly originSeq: number;
  readonly topic: string;
  /** The payload, already JSON. */
  readonly json: string;
}

export interface LoggedEvent {
  readonly seq: bigint;
  readonly topic: string;
  readonly json: string;
}

export async function ensureEventLog(pool: Pool): Promise<void> {
  // Replicas starting together would race on the catalog (CREATE TABLE IF NOT EXISTS is not
  // atomic against itself); the lock makes them take turns.
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${EVENT_TABLE} (
      seq bigserial PRIMARY KEY,
      origin uuid NOT NULL,
      origin_seq bigint NOT NULL,
      topic text NOT NULL,
      payload text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (origin, origin_seq)
    )`);
  });
}

/**
 * Appends a batch in order and notifies listeners, in one transaction.
 *
 * Sequence gaps: a bigserial value is drawn before its transaction commits, so two concurrent
 * publishers could commit 12 before 11, and a reader that saw 12 and moved its cursor past 11
 * would never deliver 11. Appends therefore hold one transaction-level advisory lock, taken
 * before the sequence is drawn and released only after commit: commits happen in sequence order,
 * every snapshot sees a prefix of the log, and a reader can simply read `seq > cursor`. Gaps
 * that remain (a rolled-back append, a retried batch skipped by ON CONFLICT) are holes nothing
 * will ever fill, so readers need not wait for them. The lock serialises appends across the
 * cluster, but it is held only for one insert and a commit, which is cheap next to the
 * database writes that precede every published event.
 */
export async function appendEvents(pool: Pool, origin: string, events: readonly PendingEvent[]): Promise<void> {
  await inTransaction(pool, (client) => appendEventsWith((text, values) => client.query(text, values), origin, events));
}

/**
 * The append itself, on a connection that is inside a transaction: the bus's own, or the caller's
 * when events must exist exactly when the rows they describe commit (a transactional outbox).
 */
export async function appendEventsWith(
  query: (text: string, values: unknown[]) => Promise<{ rows: unknown[] }>,
  origin: string,
  events: readonly PendingEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
  const { rows } = (await query(
    `INSERT INTO ${EVENT_TABLE} (origin, origin_seq, topic, payload)
     SELECT $1, e.origin_seq, e.topic, e.payload
     FROM unnest($2::bigint[], $3::text[], $4::text[]) AS e(origin_seq, topic, payload)
     ORDER BY e.origin_seq
     ON CONFLICT (origin, origin_seq) DO NOTHING
     RETURNING seq`,
    [origin, events.map((e) => e.originSeq), events.map((e) => e.topic), events.map((e) => e.json)],
  )) as { rows: { seq: string }[] };
  // A batch whose rows all existed was committed before (the retry of a commit whose reply was
  // lost), and that commit notified already.
  if (rows.length === 0) return;
  const last = rows.reduce((max, row) => (BigInt(row.seq) > max ? BigInt(row.seq) : max), 0n);
  await query('SELECT pg_notify($1, $2)', [EVENT_CHANNEL, last.toString()]);
}

export async function readEventsAfter(client: ClientBase, cursor: bigint, limit: number): Promise<LoggedEvent[]> {
  const { rows } = await client.query<{ seq: string; topic: string; payload: string }>(
    `SELECT seq, topic, payload FROM ${EVENT_TABLE} WHERE seq > $1 ORDER BY seq LIMIT $2`,
    [cursor.toString(), limit],
  );
  return rows.map((row) => ({ seq: BigInt(row.seq), topic: row.topic, json: row.payload }));
}

/** Where a new reader starts: events published before it existed are not its subscribers'. */
export async function lastEventSeq(client: ClientBase): Promise<bigint> {
  const { rows } = await client.query<{ seq: string }>(`SELECT coalesce(max(seq), 0) AS seq FROM ${EVENT_TABLE}`);
  return BigInt(rows[0].seq);
}

/**
 * Deletes events older than the retention, unless another replica is pruning right now: every
 * replica schedules pruning, and the try-lock keeps them from scanning the table together.
 * Returns the number of rows deleted, or null when another replica held the lock.
 */
export async function pruneEvents(pool: Pool, retentionMs: number): Promise<number | null> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [PRUNE_LOCK]);
    if (!rows[0].locked) return null;
    const deleted = await client.query(
      `DELETE FROM ${EVENT_TABLE} WHERE created_at < now() - make_interval(secs => $1)`,
      [retentionMs / 1000],
    );
    return deleted.rowCount ?? 0;
  });
}

async function inTransaction<T>(pool: Pool, work: (client: ClientBase) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    // Discarding the connection aborts whatever transaction it had open, and a connection that
    // failed mid-query is not one to reuse anyway.
    client.release(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}
