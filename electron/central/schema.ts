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
 * - `central_batches`, `central_units` (version 2): each station's batches and units as its own `batches` and
 *   `units` views hold them, keyed by (station_id, id), derived by the database from the events it received:
 *   `central_project(station, after, upto)` applies the station's events after < seq <= upto as
 *   `audit/projections.ts` does, and `central_ingest` calls it for the events it keeps, in the same transaction.
 *   Derived, not received: they can always be made again from `central_events` (migration 2 did, for the events a
 *   version-1 database held).
 */
import type { PoolClient, QueryConfig } from 'pg';

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
  // 2: the views, derived by the database from the events it received (what `audit/projections.ts` does on the
  // station, per station), kept in step by central_ingest; a database at version 1 gets them from its events.
  `
  -- How far the views are derived, per station. Taken first: the lock this ALTER takes holds off every ingest until
  -- the migration commits, and an ingest that ran the old function meanwhile is caught up by the next one.
  ALTER TABLE central_stations ADD COLUMN projected_seq bigint NOT NULL DEFAULT 0;

  CREATE TABLE central_batches (
    station_id text NOT NULL REFERENCES central_stations (station_id),
    id text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    recipe_id text COLLATE "C" NOT NULL,
    config_sha256 text NOT NULL,
    operator text COLLATE "C",
    opened_at text COLLATE "C" NOT NULL,
    closed_at text COLLATE "C",
    state text NOT NULL,
    released_at text COLLATE "C",
    last_seq bigint NOT NULL,
    PRIMARY KEY (station_id, id)
  );
  CREATE INDEX central_batches_opened ON central_batches (opened_at);
  CREATE INDEX central_batches_recipe ON central_batches (recipe_id);
  CREATE INDEX central_batches_name ON central_batches (name);

  CREATE TABLE central_units (
    station_id text NOT NULL REFERENCES central_stations (station_id),
    id text COLLATE "C" NOT NULL,
    batch_id text COLLATE "C" NOT NULL,
    slot integer,
    soc text COLLATE "C",
    mcu_id text COLLATE "C",
    device_id text COLLATE "C",
    serial_number text COLLATE "C",
    state text NOT NULL,
    last_step text,
    outcome text,
    error_code text COLLATE "C",
    started_at text COLLATE "C" NOT NULL,
    ended_at text COLLATE "C",
    duration_ms double precision,
    attempt integer NOT NULL,
    operator text COLLATE "C",
    reviewed_at text COLLATE "C",
    last_seq bigint NOT NULL,
    PRIMARY KEY (station_id, id)
  );
  -- QA's queries page newest first on (started_at, station_id, id), across stations or within one.
  CREATE INDEX central_units_started ON central_units (started_at, station_id, id);
  CREATE INDEX central_units_station_started ON central_units (station_id, started_at, id);
  CREATE INDEX central_units_batch_started ON central_units (station_id, batch_id, started_at, id);
  CREATE INDEX central_units_state_started ON central_units (state, started_at, station_id, id);
  CREATE INDEX central_units_error_started ON central_units (error_code, started_at, station_id, id)
    WHERE error_code IS NOT NULL;
  CREATE INDEX central_units_operator_started ON central_units (operator, started_at, station_id, id);
  CREATE INDEX central_units_reviewed_started ON central_units (started_at, station_id, id)
    WHERE reviewed_at IS NOT NULL;
  CREATE INDEX central_units_slot_started ON central_units (slot, started_at, station_id, id);
  -- A unit found by its id alone (a search, a link without the station): before PostgreSQL 18's skip scan the
  -- primary key, which leads with the station, cannot serve it.
  CREATE INDEX central_units_id ON central_units (id);
  -- Prefix searches too (LIKE 'abc%'): the columns are COLLATE "C".
  CREATE INDEX central_units_mcu ON central_units (mcu_id) WHERE mcu_id IS NOT NULL;
  CREATE INDEX central_units_device ON central_units (device_id) WHERE device_id IS NOT NULL;
  CREATE INDEX central_units_serial ON central_units (serial_number) WHERE serial_number IS NOT NULL;

  -- An event's details as jsonb, for the views. jsonb cannot hold U+0000 nor a lone surrogate, which JSON text
  -- can (\\u0000, \\ud800): such details are read with those characters as U+FFFD instead of stopping every ingest
  -- of the station; the event itself is kept exactly as the station hashed it. The fast path is a plain cast:
  -- canonical JSON writes a \\u escape only for control characters and lone surrogates.
  CREATE FUNCTION central_details_slow(p_details text) RETURNS jsonb
  LANGUAGE plpgsql IMMUTABLE AS $$
  DECLARE
    mended text := p_details;
    before text;
  BEGIN
    RETURN p_details::jsonb;
  EXCEPTION WHEN OTHERS THEN
    -- An escape preceded by an even number of backslashes is an escape, not an escaped backslash and text. Each
    -- match takes the character before it, so escapes side by side need another pass.
    LOOP
      before := mended;
      mended := regexp_replace(mended, '((?:^|[^\\\\])(?:\\\\\\\\)*)\\\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})',
                               '\\1\\\\ufffd', 'g');
      EXIT WHEN mended = before;
    END LOOP;
    RETURN mended::jsonb;
  END $$;
  CREATE FUNCTION central_details(p_details text) RETURNS jsonb
  LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN strpos(p_details, '\\u') = 0 THEN p_details::jsonb
                ELSE central_details_slow(p_details) END
  $$;

  -- The key's value when it is a JSON string, else NULL: projections.ts's str().
  CREATE FUNCTION central_str(p_object jsonb, p_key text) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(p_object -> p_key) = 'string' THEN p_object ->> p_key END
  $$;

  -- Applies the station's events p_after < seq <= p_upto to central_batches and central_units, as
  -- Projections.apply does one by one on the station (kinds it does not name change nothing). The station's store
  -- checked each event against its views before recording it (resolve), so the checks are not made again here.
  --
  -- Batches: few events, applied one by one in seq order.
  -- Units: set-based, one write per unit for the whole range. A unit's row is its row before the range (none for
  -- a new unit) with each column set by the last event of the range that sets it: apply() only ever assigns a
  -- column (u.x = ...), so the last assignment wins. Two rules look at the row as it stood: unit.voided sets
  -- ended_at only when it is NULL (so: the first unit.voided after the last unit.started/unit.finished, which set
  -- it whatever it was), and unit.finished without a numeric durationMs measures from started_at as it stood (as
  -- nothing after it started the unit again, that is the row's final started_at). last_seq is the last event that
  -- changed the row; events about a unit before its first unit.started change nothing (apply finds no row).
  --
  -- The plans must not depend on statistics (a fresh table has none, and plpgsql keeps a plan for the session):
  -- the range is read through the primary key only (kinds are tested in CASE, which no index can serve: the kind
  -- index would read every station's events of those kinds), CTEs are never joined to each other (a
  -- misestimate made that a nested loop), and rows are looked up by primary key one unit at a time (LATERAL ...
  -- OFFSET 0 and EXISTS stay per-row lookups).
  CREATE FUNCTION central_project(p_station text, p_after bigint, p_upto bigint) RETURNS void
  LANGUAGE plpgsql
  -- One plan per session, whatever the range: the plans do not depend on it, and planning every call cost more
  -- than it saved (measured).
  SET plan_cache_mode = force_generic_plan
  AS $$
  DECLARE
    ev record;
  BEGIN
    FOR ev IN
      SELECT seq, kind, batch_id, operator, at, central_details(details) AS d
        FROM central_events
       WHERE station_id = p_station AND seq > p_after AND seq <= p_upto
         AND CASE kind WHEN 'batch.opened' THEN true WHEN 'batch.closed' THEN true WHEN 'signature' THEN true
                       ELSE false END
       ORDER BY seq
    LOOP
      IF ev.kind = 'batch.opened' THEN
        INSERT INTO central_batches (station_id, id, name, recipe_id, config_sha256, operator, opened_at, state,
                                     last_seq)
        VALUES (p_station, ev.batch_id, central_str(ev.d, 'name'), central_str(ev.d, 'recipeId'),
                central_str(ev.d, 'configSha256'), ev.operator, ev.at, 'open', ev.seq);
      ELSIF ev.kind = 'batch.closed' THEN
        UPDATE central_batches SET state = 'closed', closed_at = ev.at, last_seq = ev.seq
         WHERE station_id = p_station AND id = ev.batch_id;
      ELSIF ev.d ->> 'meaning' = 'released' AND ev.d -> 'subject' ->> 'type' = 'batch'
            AND jsonb_typeof(ev.d -> 'subject' -> 'id') = 'string' THEN
        UPDATE central_batches SET released_at = ev.at, last_seq = ev.seq
         WHERE station_id = p_station AND id = ev.d -> 'subject' ->> 'id';
      END IF;
    END LOOP;

    WITH raw AS MATERIALIZED (
      SELECT seq, kind, unit_id, batch_id, slot, step, operator, at, outcome,
             -- Step events are most of a trail and need nothing from their details.
             CASE WHEN kind IN ('step.started', 'step.finished') THEN NULL ELSE central_details(details) END AS d
        FROM central_events
       WHERE station_id = p_station AND seq > p_after AND seq <= p_upto
         AND CASE WHEN unit_id IS NULL THEN false
                  ELSE kind IN ('unit.started', 'unit.identified', 'step.started', 'step.finished', 'unit.attention',
                                'unit.finished', 'unit.voided', 'signature', 'correction') END
    ),
    -- The events that change their unit's row, and for each column whether the event sets it (x_set) and to what.
    changes AS (
      SELECT seq, kind, unit_id, batch_id, slot, operator, at,
             (kind IN ('unit.started', 'unit.identified') AND jsonb_typeof(d -> 'soc') = 'string')
               OR cset ? 'soc' AS soc_set,
             CASE WHEN kind = 'correction' THEN cset ->> 'soc' ELSE d ->> 'soc' END AS soc,
             (kind IN ('unit.started', 'unit.identified') AND jsonb_typeof(d -> 'mcuId') = 'string')
               OR cset ? 'mcuId' AS mcu_id_set,
             CASE WHEN kind = 'correction' THEN cset ->> 'mcuId' ELSE d ->> 'mcuId' END AS mcu_id,
             kind = 'unit.started' AND jsonb_typeof(d -> 'scan' -> 'serialNumber') = 'string' AS serial_number_set,
             d -> 'scan' ->> 'serialNumber' AS serial_number,
             (kind IN ('unit.identified', 'unit.finished') AND jsonb_typeof(d -> 'deviceId') = 'string')
               OR cset ? 'deviceId' AS device_id_set,
             CASE WHEN kind = 'correction' THEN cset ->> 'deviceId' ELSE d ->> 'deviceId' END AS device_id,
             kind IN ('unit.started', 'unit.attention', 'unit.finished', 'unit.voided') OR cset ? 'state' AS state_set,
             CASE kind WHEN 'unit.started' THEN 'in-progress' WHEN 'unit.attention' THEN 'attention'
                       WHEN 'unit.finished' THEN finished_as WHEN 'unit.voided' THEN 'voided'
                       ELSE cset ->> 'state' END AS state,
             kind IN ('unit.started', 'step.started', 'step.finished') AS last_step_set,
             CASE WHEN kind <> 'unit.started' THEN step END AS last_step,
             kind IN ('unit.started', 'unit.finished') OR cset ? 'outcome' AS outcome_set,
             CASE kind WHEN 'unit.finished' THEN finished_as WHEN 'correction' THEN cset ->> 'outcome' END AS outcome,
             kind = 'unit.started'
               OR (kind = 'unit.attention' AND jsonb_typeof(d -> 'errorCode') = 'string')
               OR (kind = 'unit.finished' AND (jsonb_typeof(d -> 'errorCode') = 'string' OR finished_as = 'passed'))
               OR cset ? 'errorCode' AS error_code_set,
             CASE kind WHEN 'unit.started' THEN NULL WHEN 'correction' THEN cset ->> 'errorCode'
                       ELSE central_str(d, 'errorCode') END AS error_code,
             -- unit.started and unit.finished set ended_at and duration_ms whatever they were.
             kind IN ('unit.started', 'unit.finished') AS ended_set,
             CASE WHEN kind = 'unit.finished' THEN at END AS ended_at,
             CASE WHEN kind = 'unit.finished' AND jsonb_typeof(d -> 'durationMs') = 'number'
                  THEN (d ->> 'durationMs')::double precision END AS duration_ms,
             -- A unit.finished with no numeric durationMs: measured from the start.
             CASE WHEN kind = 'unit.finished' AND jsonb_typeof(d -> 'durationMs') IS DISTINCT FROM 'number'
                  THEN at END AS measured_end,
             kind IN ('unit.started', 'signature') AS reviewed_set,
             CASE WHEN kind = 'signature' THEN at END AS reviewed_at
        FROM (SELECT raw.*,
                     CASE WHEN kind = 'correction' AND jsonb_typeof(d -> 'set') = 'object' THEN d -> 'set' END AS cset,
                     CASE WHEN outcome IN ('passed', 'cancelled') THEN outcome ELSE 'failed' END AS finished_as
                FROM raw) r
       WHERE CASE kind
               WHEN 'signature' THEN d ->> 'meaning' = 'reviewed' AND d -> 'subject' ->> 'type' = 'unit'
               -- apply() returns when !set or Object.keys(set) is empty.
               WHEN 'correction' THEN CASE jsonb_typeof(d -> 'set')
                                        WHEN 'object' THEN d -> 'set' <> '{}'::jsonb
                                        WHEN 'array' THEN jsonb_array_length(d -> 'set') > 0
                                        WHEN 'string' THEN d ->> 'set' <> ''
                                        ELSE false END
               ELSE true
             END
    ),
    ordered AS (
      SELECT c.*,
             min(seq) FILTER (WHERE kind = 'unit.started') OVER unit AS first_start,
             max(seq) FILTER (WHERE ended_set) OVER unit AS ended_seq
        FROM changes c
      WINDOW unit AS (PARTITION BY unit_id ORDER BY seq DESC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ),
    -- Per unit: its starts, and for each column the values the range sets it to, last first (NULL: none).
    agg AS (
      SELECT unit_id,
             max(seq) AS last_seq,
             count(*) FILTER (WHERE kind = 'unit.started') AS starts,
             max(seq) FILTER (WHERE kind = 'unit.started') AS start_seq,
             array_agg(soc ORDER BY seq DESC) FILTER (WHERE soc_set) AS socs,
             array_agg(mcu_id ORDER BY seq DESC) FILTER (WHERE mcu_id_set) AS mcu_ids,
             array_agg(serial_number ORDER BY seq DESC) FILTER (WHERE serial_number_set) AS serial_numbers,
             array_agg(device_id ORDER BY seq DESC) FILTER (WHERE device_id_set) AS device_ids,
             array_agg(state ORDER BY seq DESC) FILTER (WHERE state_set) AS states,
             array_agg(last_step ORDER BY seq DESC) FILTER (WHERE last_step_set) AS last_steps,
             array_agg(outcome ORDER BY seq DESC) FILTER (WHERE outcome_set) AS outcomes,
             array_agg(error_code ORDER BY seq DESC) FILTER (WHERE error_code_set) AS error_codes,
             array_agg(ended_at ORDER BY seq DESC) FILTER (WHERE ended_set) AS ended_ats,
             array_agg(duration_ms ORDER BY seq DESC) FILTER (WHERE ended_set) AS durations,
             (array_agg(measured_end ORDER BY seq DESC) FILTER (WHERE ended_set))[1] AS measured_end,
             -- The first unit.voided after them (last in this order).
             array_agg(at ORDER BY seq DESC) FILTER (WHERE kind = 'unit.voided' AND seq > coalesce(ended_seq, 0))
               AS voided_ats,
             array_agg(reviewed_at ORDER BY seq DESC) FILTER (WHERE reviewed_set) AS reviewed_ats
        FROM ordered o
       WHERE o.seq >= o.first_start
          OR EXISTS (SELECT 1 FROM central_units u WHERE u.station_id = p_station AND u.id = o.unit_id)
       GROUP BY unit_id
    )
    INSERT INTO central_units (station_id, id, batch_id, slot, soc, mcu_id, device_id, serial_number, state,
                               last_step, outcome, error_code, started_at, ended_at, duration_ms, attempt, operator,
                               reviewed_at, last_seq)
      SELECT p_station, a.unit_id,
             CASE WHEN a.starts > 0 THEN s.batch_id ELSE u.batch_id END,
             CASE WHEN a.starts > 0 THEN s.slot ELSE u.slot END,
             CASE WHEN a.socs IS NULL THEN u.soc ELSE a.socs[1] END,
             CASE WHEN a.mcu_ids IS NULL THEN u.mcu_id ELSE a.mcu_ids[1] END,
             CASE WHEN a.device_ids IS NULL THEN u.device_id ELSE a.device_ids[1] END,
             CASE WHEN a.serial_numbers IS NULL THEN u.serial_number ELSE a.serial_numbers[1] END,
             CASE WHEN a.states IS NULL THEN u.state ELSE a.states[1] END,
             CASE WHEN a.last_steps IS NULL THEN u.last_step ELSE a.last_steps[1] END,
             CASE WHEN a.outcomes IS NULL THEN u.outcome ELSE a.outcomes[1] END,
             CASE WHEN a.error_codes IS NULL THEN u.error_code ELSE a.error_codes[1] END,
             CASE WHEN a.starts > 0 THEN s.at ELSE u.started_at END,
             coalesce(CASE WHEN a.ended_ats IS NULL THEN u.ended_at ELSE a.ended_ats[1] END,
                      a.voided_ats[array_upper(a.voided_ats, 1)]),
             CASE WHEN a.durations IS NULL THEN u.duration_ms
                  WHEN a.measured_end IS NOT NULL
                    THEN extract(epoch FROM a.measured_end::timestamptz
                                  - (CASE WHEN a.starts > 0 THEN s.at ELSE u.started_at END)::timestamptz) * 1000
                  ELSE a.durations[1] END,
             coalesce(u.attempt, 0) + a.starts,
             CASE WHEN a.starts > 0 THEN s.operator ELSE u.operator END,
             CASE WHEN a.reviewed_ats IS NULL THEN u.reviewed_at ELSE a.reviewed_ats[1] END,
             a.last_seq
        FROM agg a
        LEFT JOIN LATERAL (SELECT * FROM central_units
                            WHERE station_id = p_station AND id = a.unit_id OFFSET 0) u ON true
        -- The last unit.started: where, when and by whom the unit's latest attempt started.
        LEFT JOIN LATERAL (SELECT batch_id, slot, at, operator FROM central_events
                            WHERE station_id = p_station AND seq = a.start_seq OFFSET 0) s ON true
    ON CONFLICT (station_id, id) DO UPDATE SET
      batch_id = EXCLUDED.batch_id, slot = EXCLUDED.slot, soc = EXCLUDED.soc, mcu_id = EXCLUDED.mcu_id,
      device_id = EXCLUDED.device_id, serial_number = EXCLUDED.serial_number, state = EXCLUDED.state,
      last_step = EXCLUDED.last_step, outcome = EXCLUDED.outcome, error_code = EXCLUDED.error_code,
      started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at, duration_ms = EXCLUDED.duration_ms,
      attempt = EXCLUDED.attempt, operator = EXCLUDED.operator, reviewed_at = EXCLUDED.reviewed_at,
      last_seq = EXCLUDED.last_seq;
  END $$;

  -- As in version 1, and the views follow in the same transaction.
  -- An event's hash as the station makes it (audit/hash-chain.ts): SHA-256 of prev_hash and the RFC 8785 canonical
  -- JSON of the other columns. Keys in code-point order; strings escaped by to_json, which escapes exactly what
  -- RFC 8785 does (quote, backslash, and control characters: the short escapes, else u00xx in lower case); details is the
  -- station's canonical text already; seq, slot and supersedes are integers.
  CREATE FUNCTION central_event_hash(p_seq bigint, p_event_id uuid, p_at text, p_station_id text, p_operator text,
    p_batch_id text, p_unit_id text, p_slot integer, p_step text, p_kind text, p_outcome text, p_details text,
    p_supersedes bigint, p_prev_hash text) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(p_prev_hash
      || '{"at":' || coalesce(to_json(p_at)::text, 'null')
      || ',"batch_id":' || coalesce(to_json(p_batch_id)::text, 'null')
      || ',"details":' || p_details
      || ',"event_id":' || to_json(p_event_id::text)::text
      || ',"kind":' || coalesce(to_json(p_kind)::text, 'null')
      || ',"operator":' || coalesce(to_json(p_operator)::text, 'null')
      || ',"outcome":' || coalesce(to_json(p_outcome)::text, 'null')
      || ',"prev_hash":' || coalesce(to_json(p_prev_hash)::text, 'null')
      || ',"seq":' || p_seq::text
      || ',"slot":' || coalesce(p_slot::text, 'null')
      || ',"station_id":' || coalesce(to_json(p_station_id)::text, 'null')
      || ',"step":' || coalesce(to_json(p_step)::text, 'null')
      || ',"supersedes":' || coalesce(p_supersedes::text, 'null')
      || ',"unit_id":' || coalesce(to_json(p_unit_id)::text, 'null')
      || '}', 'UTF8')), 'hex')
  $$;

  CREATE OR REPLACE FUNCTION central_ingest(p_station text, p_events jsonb) RETURNS jsonb
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
    -- Each new event must link to the one before, and be what its hash says: the hash is recomputed here from the
    -- columns (central_event_hash), so an event changed after it was hashed is caught by the database itself.
    SELECT seq, prev_hash, linked_to, hash, computed INTO bad FROM (
      SELECT seq, prev_hash, hash,
             coalesce(lag(hash) OVER (ORDER BY seq), st.head_hash) AS linked_to,
             central_event_hash(seq, event_id, at, station_id, operator, batch_id, unit_id, slot, step, kind,
                                outcome, details, supersedes, prev_hash) AS computed
        FROM central_incoming WHERE seq > st.head_seq) linked
     WHERE prev_hash IS DISTINCT FROM linked_to OR hash IS DISTINCT FROM computed ORDER BY seq LIMIT 1;
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
      -- From where the views stand, not from this batch's first event: events an older ingest took (during the
      -- migration to this version) are derived now too.
      PERFORM central_project(p_station, st.projected_seq, st.head_seq);
      UPDATE central_stations SET projected_seq = st.head_seq WHERE station_id = p_station;
    END IF;
    IF last_ok IS NOT NULL AND bad.prev_hash IS DISTINCT FROM bad.linked_to THEN
      RETURN central_refuse(p_station, bad.seq, format(
        'event seq %s does not continue the chain received so far: its prev hash %s… is not the hash %s… of seq %s',
        bad.seq, left(bad.prev_hash, 16), left(bad.linked_to, 16), bad.seq - 1));
    END IF;
    IF last_ok IS NOT NULL THEN
      RETURN central_refuse(p_station, bad.seq, format(
        'event seq %s is not the event its hash was made from: its contents hash to %s…, it says %s… (changed after it was hashed)',
        bad.seq, left(bad.computed, 16), left(bad.hash, 16)));
    END IF;
    RETURN jsonb_build_object('ok', true, 'inserted', inserted, 'resent', resent, 'headSeq', st.head_seq,
                              'headHash', st.head_hash);
  END $$;

  SELECT central_project(station_id, 0, head_seq) FROM central_stations;
  UPDATE central_stations SET projected_seq = head_seq;
  `,
];

const MIGRATION_TIMEOUT_MS = 6 * 3_600_000;

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
        // A migration that derives from every event received (2: the views) takes minutes on millions of events:
        // longer than a shipping round may wait on one query.
        // (node-postgres reads a query's own query_timeout; its types do not list it.)
        const migration: QueryConfig & { query_timeout: number } = {
          text: CENTRAL_MIGRATIONS[version]!,
          query_timeout: MIGRATION_TIMEOUT_MS,
        };
        await client.query(migration);
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
