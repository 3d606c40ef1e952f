/**
 * The central database's schema: plain SQL, applied in order, one transaction each, as the station's own trail is
 * (`audit/schema.ts`). `central_schema` holds the version. A session-level advisory lock makes stations that start
 * their shipping at the same moment take turns.
 *
 * - `central_stations`: each station registered once with its public key, and the head of its chain as received.
 * - `central_events`: every station's events exactly as the station hashed them (`details` is the canonical JSON
 *   text: jsonb would reorder its keys, and the hash could not be checked again). Append-only (triggers refuse
 *   UPDATE, DELETE and TRUNCATE); someone who drops the triggers is caught by `station central verify`.
 * - `central_refusals`: every time a station's events were refused, and why.
 * - `central_ingest(station, events)`: the only way events get in. It takes a station's events in seq order and
 *   keeps those that continue the chain it holds; a resent event must be the one it already has (same hash). An
 *   event that does not continue the chain, or differs from the one received before, refuses the station.
 */
import type { PoolClient } from 'pg';

export const CENTRAL_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE central_stations (
    station_id text PRIMARY KEY,
    public_key text NOT NULL,
    public_key_fp text NOT NULL,
    name text,
    site text,
    line text,
    registered_at timestamptz NOT NULL DEFAULT now(),
    head_seq bigint NOT NULL DEFAULT 0,
    head_hash text NOT NULL DEFAULT repeat('0', 64),
    head_at text,
    shipped_at timestamptz,
    refused_at timestamptz,
    refused_seq bigint,
    refused_reason text
  );

  CREATE TABLE central_events (
    station_id text NOT NULL REFERENCES central_stations (station_id),
    seq bigint NOT NULL,
    event_id uuid NOT NULL,
    at text NOT NULL,
    operator text,
    batch_id text,
    unit_id text,
    slot integer,
    step text,
    kind text NOT NULL,
    outcome text,
    details text NOT NULL,
    supersedes bigint,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (station_id, seq)
  );
  -- Append-only, as the station's own table: what was received is never edited or removed through SQL.
  CREATE FUNCTION central_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION 'central_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
  END $$;
  CREATE TRIGGER central_events_no_update BEFORE UPDATE OR DELETE ON central_events
    FOR EACH ROW EXECUTE FUNCTION central_events_append_only();
  CREATE TRIGGER central_events_no_truncate BEFORE TRUNCATE ON central_events
    FOR EACH STATEMENT EXECUTE FUNCTION central_events_append_only();
  CREATE INDEX central_events_unit ON central_events (unit_id, station_id, seq) WHERE unit_id IS NOT NULL;
  CREATE INDEX central_events_batch ON central_events (batch_id, station_id, seq) WHERE batch_id IS NOT NULL;
  CREATE INDEX central_events_kind_at ON central_events (kind, at);

  CREATE TABLE central_refusals (
    id bigserial PRIMARY KEY,
    station_id text NOT NULL REFERENCES central_stations (station_id),
    at timestamptz NOT NULL DEFAULT now(),
    first_bad_seq bigint NOT NULL,
    reason text NOT NULL
  );

  CREATE FUNCTION central_refuse(p_station text, p_seq bigint, p_reason text) RETURNS jsonb
  LANGUAGE plpgsql AS $$
  BEGIN
    UPDATE central_stations
       SET refused_at = now(), refused_seq = p_seq, refused_reason = p_reason
     WHERE station_id = p_station;
    INSERT INTO central_refusals (station_id, first_bad_seq, reason) VALUES (p_station, p_seq, p_reason);
    RETURN jsonb_build_object('ok', false, 'refused', true, 'firstBadSeq', p_seq, 'reason', p_reason);
  END $$;

  -- A refused station shows the pair of events around the first seq its file now differs at: [s - 1, s] as the
  -- file has them (just [s] when s is 1). Seq s - 1 must be the event received, seq s must differ from it and
  -- link to s - 1: then the refusal names s.
  CREATE FUNCTION central_note_difference(p_station text, p_events jsonb) RETURNS jsonb
  LANGUAGE plpgsql AS $$
  DECLARE
    last_ev jsonb := p_events->(jsonb_array_length(p_events) - 1);
    s bigint := (last_ev->>'seq')::bigint;
    before_ev jsonb := CASE WHEN jsonb_array_length(p_events) > 1 THEN p_events->0 END;
    stored_before text;
    stored text;
  BEGIN
    PERFORM 1 FROM central_stations WHERE station_id = p_station FOR UPDATE;
    SELECT hash INTO stored FROM central_events WHERE station_id = p_station AND seq = s;
    IF stored IS NULL OR stored = last_ev->>'hash' THEN
      RETURN jsonb_build_object('ok', false, 'reason', format('seq %s is not an event that differs', s));
    END IF;
    IF s > 1 THEN
      SELECT hash INTO stored_before FROM central_events WHERE station_id = p_station AND seq = s - 1;
      IF before_ev IS NULL OR (before_ev->>'seq')::bigint <> s - 1 OR stored_before IS DISTINCT FROM before_ev->>'hash'
         OR last_ev->>'prev_hash' IS DISTINCT FROM before_ev->>'hash' THEN
        RETURN jsonb_build_object('ok', false, 'reason', format('seq %s - 1 does not match: not the first that differs', s));
      END IF;
    END IF;
    RETURN central_refuse(p_station, s, format(
      'event seq %s differs from the one received before (hash %s…, received %s…); seq %s is the first that differs: the station''s file was rewritten after it was shipped',
      s, left(last_ev->>'hash', 16), left(stored, 16), s));
  END $$;

  -- Set-based: the batch is read once (jsonb_to_recordset), checked with window functions, and its new events
  -- go in with one INSERT; a batch of hundreds costs about what one event did.
  CREATE FUNCTION central_ingest(p_station text, p_events jsonb) RETURNS jsonb
  LANGUAGE plpgsql AS $$
  DECLARE
    st central_stations%ROWTYPE;
    other_station text;
    bad record;
    gap record;
    resent integer;
    inserted integer := 0;
    last_ok bigint;
  BEGIN
    SELECT * INTO st FROM central_stations WHERE station_id = p_station FOR UPDATE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'station % is not registered with the central database', p_station
        USING ERRCODE = 'no_data_found';
    END IF;
    IF st.refused_at IS NOT NULL THEN
      RETURN jsonb_build_object('ok', false, 'refused', true, 'firstBadSeq', st.refused_seq,
                                'reason', st.refused_reason);
    END IF;
    CREATE TEMP TABLE IF NOT EXISTS central_incoming (
      seq bigint, event_id uuid, at text, station_id text, operator text, batch_id text, unit_id text,
      slot integer, step text, kind text, outcome text, details text, supersedes bigint, prev_hash text, hash text
    ) ON COMMIT DROP;
    TRUNCATE central_incoming;
    INSERT INTO central_incoming
      SELECT * FROM jsonb_to_recordset(p_events) AS x(
        seq bigint, event_id uuid, at text, station_id text, operator text, batch_id text, unit_id text,
        slot integer, step text, kind text, outcome text, details text, supersedes bigint, prev_hash text, hash text);
    SELECT station_id INTO other_station FROM central_incoming WHERE station_id IS DISTINCT FROM p_station LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'an event of the batch names station %, not %', other_station, p_station
        USING ERRCODE = 'data_exception';
    END IF;

    -- Sent again (a shipper that crashed after the commit): each must be the event received.
    SELECT i.seq, i.hash, e.hash AS stored INTO bad
      FROM central_incoming i LEFT JOIN central_events e ON e.station_id = p_station AND e.seq = i.seq
     WHERE i.seq <= st.head_seq AND e.hash IS DISTINCT FROM i.hash ORDER BY i.seq LIMIT 1;
    IF FOUND THEN
      RETURN central_refuse(p_station, bad.seq, format(
        'event seq %s differs from the one received before (hash %s…, received %s…)%s: the station''s file was rewritten after it was shipped',
        bad.seq, left(bad.hash, 16), left(bad.stored, 16),
        -- The one before it was sent too, and matched: this is where the file starts to differ.
        CASE WHEN bad.seq = 1 OR EXISTS (SELECT 1 FROM central_incoming WHERE seq = bad.seq - 1)
             THEN format('; seq %s is the first that differs', bad.seq) ELSE '' END));
    END IF;
    SELECT count(*) INTO resent FROM central_incoming WHERE seq <= st.head_seq;

    -- New events: seq head + 1, head + 2, ... each linked to the one before (the first to the head).
    SELECT seq, expected_seq INTO gap FROM (
      SELECT seq, st.head_seq + row_number() OVER (ORDER BY seq) AS expected_seq
        FROM central_incoming WHERE seq > st.head_seq) numbered
     WHERE seq <> expected_seq ORDER BY seq LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'events of station % must follow seq %, got seq %', p_station,
        gap.expected_seq - 1, gap.seq USING ERRCODE = 'data_exception';
    END IF;
    SELECT seq, prev_hash, linked_to INTO bad FROM (
      SELECT seq, prev_hash,
             coalesce(lag(hash) OVER (ORDER BY seq), st.head_hash) AS linked_to
        FROM central_incoming WHERE seq > st.head_seq) linked
     WHERE prev_hash IS DISTINCT FROM linked_to ORDER BY seq LIMIT 1;
    last_ok := CASE WHEN FOUND THEN bad.seq - 1 ELSE NULL END;

    INSERT INTO central_events (station_id, seq, event_id, at, operator, batch_id, unit_id, slot, step, kind,
                                outcome, details, supersedes, prev_hash, hash)
      SELECT p_station, seq, event_id, at, operator, batch_id, unit_id, slot, step, kind, outcome, details,
             supersedes, prev_hash, hash
        FROM central_incoming
       WHERE seq > st.head_seq AND (last_ok IS NULL OR seq <= last_ok)
       ORDER BY seq;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    IF inserted > 0 THEN
      SELECT seq, hash, at INTO st.head_seq, st.head_hash, st.head_at
        FROM central_incoming WHERE seq = st.head_seq + inserted;
      UPDATE central_stations SET head_seq = st.head_seq, head_hash = st.head_hash, head_at = st.head_at,
             shipped_at = now() WHERE station_id = p_station;
    END IF;
    IF last_ok IS NOT NULL THEN
      RETURN central_refuse(p_station, bad.seq, format(
        'event seq %s does not continue the chain received so far: its prev hash %s… is not the hash %s… of seq %s',
        bad.seq, left(bad.prev_hash, 16), left(bad.linked_to, 16), bad.seq - 1));
    END IF;
    RETURN jsonb_build_object('ok', true, 'inserted', inserted, 'resent', resent, 'headSeq', st.head_seq,
                              'headHash', st.head_hash);
  END $$;
  `,
];

/** Applies the migrations this database has not had yet; returns the version it is at. */
export async function migrateCentral(client: PoolClient): Promise<number> {
  // One migrator at a time, whoever else starts now (a lock for this session, released below).
  await client.query('SELECT pg_advisory_lock(hashtext($1))', ['infuse-station central schema']);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS central_schema (version integer NOT NULL)');
    const found = await client.query<{ version: number }>('SELECT version FROM central_schema');
    let version = found.rows[0]?.version ?? 0;
    if (found.rows.length === 0) await client.query('INSERT INTO central_schema (version) VALUES (0)');
    if (version > CENTRAL_MIGRATIONS.length) {
      throw new Error(
        `the central database is at schema version ${version}, newer than this station software knows (${CENTRAL_MIGRATIONS.length}): update the station software`,
      );
    }
    for (; version < CENTRAL_MIGRATIONS.length; version++) {
      await client.query('BEGIN');
      try {
        await client.query(CENTRAL_MIGRATIONS[version]!);
        await client.query('UPDATE central_schema SET version = $1', [version + 1]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
    return version;
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', ['infuse-station central schema']);
  }
}
