/**
 * The central database's schema: plain SQL, applied in order, one transaction each, as the station's own trail is
 * (`audit/schema.ts`). `central_schema` holds the version. A session-level advisory lock makes stations that start
 * their shipping at the same moment take turns.
 *
 * - `central_stations`: each station registered once with its public key, and the head of its chain as received.
 * - `central_events`: every station's events exactly as the station hashed them (`details` is the canonical JSON
 *   text: jsonb would reorder its keys, and the hash could not be checked again).
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

  CREATE FUNCTION central_ingest(p_station text, p_events jsonb) RETURNS jsonb
  LANGUAGE plpgsql AS $$
  DECLARE
    st central_stations%ROWTYPE;
    ev jsonb;
    s bigint;
    stored text;
    matched_before bigint := NULL;
    inserted integer := 0;
    resent integer := 0;
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
    FOR ev IN SELECT value FROM jsonb_array_elements(p_events) LOOP
      s := (ev->>'seq')::bigint;
      IF ev->>'station_id' IS DISTINCT FROM p_station THEN
        RAISE EXCEPTION 'event seq % names station %, not %', s, ev->>'station_id', p_station
          USING ERRCODE = 'data_exception';
      END IF;
      IF s <= st.head_seq THEN
        -- Sent again (a shipper that crashed after the commit, or evidence for a refusal): it must be the same.
        SELECT hash INTO stored FROM central_events WHERE station_id = p_station AND seq = s;
        IF stored IS DISTINCT FROM ev->>'hash' THEN
          UPDATE central_stations SET head_seq = st.head_seq, head_hash = st.head_hash, head_at = st.head_at
           WHERE station_id = p_station;
          RETURN central_refuse(p_station, s, format(
            'event seq %s differs from the one received before (hash %s…, received %s…)%s: the station''s file was rewritten after it was shipped',
            s, left(ev->>'hash', 16), left(stored, 16),
            CASE WHEN s = 1 OR matched_before = s - 1 THEN format('; seq %s is the first that differs', s) ELSE '' END));
        END IF;
        matched_before := s;
        resent := resent + 1;
        CONTINUE;
      END IF;
      IF s <> st.head_seq + 1 THEN
        RAISE EXCEPTION 'events of station % must follow seq %, got seq %', p_station, st.head_seq, s
          USING ERRCODE = 'data_exception';
      END IF;
      IF ev->>'prev_hash' IS DISTINCT FROM st.head_hash THEN
        UPDATE central_stations SET head_seq = st.head_seq, head_hash = st.head_hash, head_at = st.head_at,
               shipped_at = now() WHERE station_id = p_station;
        RETURN central_refuse(p_station, s, format(
          'event seq %s does not continue the chain received so far: its prev hash %s… is not the hash %s… of seq %s',
          s, left(ev->>'prev_hash', 16), left(st.head_hash, 16), st.head_seq));
      END IF;
      INSERT INTO central_events (station_id, seq, event_id, at, operator, batch_id, unit_id, slot, step, kind,
                                  outcome, details, supersedes, prev_hash, hash)
      VALUES (p_station, s, (ev->>'event_id')::uuid, ev->>'at', ev->>'operator', ev->>'batch_id', ev->>'unit_id',
              (ev->>'slot')::integer, ev->>'step', ev->>'kind', ev->>'outcome', ev->>'details',
              (ev->>'supersedes')::bigint, ev->>'prev_hash', ev->>'hash');
      st.head_seq := s;
      st.head_hash := ev->>'hash';
      st.head_at := ev->>'at';
      inserted := inserted + 1;
    END LOOP;
    UPDATE central_stations SET head_seq = st.head_seq, head_hash = st.head_hash, head_at = st.head_at,
           shipped_at = now() WHERE station_id = p_station;
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
