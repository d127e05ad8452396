/// The PostgreSQL schema, one migration per version, each a list of statements applied in one
/// transaction with the version recorded in `schema_migrations`. A receiver applies what is
/// missing at start under an advisory lock, so receivers starting together apply each once.
///
/// Every table holding payload data is partitioned by `day` (days since 1970-01-01 of the
/// payload's own timestamp), so retention drops whole days. The day comes from the signed body,
/// so the same payload always lands in the same partition: the primary key (payload_id, day) is
/// then unique per payload_id, which is what makes a payload stored once however many receivers
/// or retries deliver it. Rows carry server_id and collected_at where the dashboard filters on
/// them, so its reads are index scans of one table; `hosts` holds each host's newest payload for
/// the fleet page.
enum PostgresSchema {
    static let lockKey: Int64 = 7_461_530_001
    static let partitionedTables = ["payloads", "metrics", "alerts", "alert_details", "container_events", "container_logs"]

    static let migrations: [(version: String, statements: [String])] = [
        ("v1", [
            """
            CREATE TABLE payloads (
                payload_id text NOT NULL, day integer NOT NULL,
                host text NOT NULL, server_id text NOT NULL, env text NOT NULL, owner_team text NOT NULL, agent_version text NOT NULL,
                collected_at bigint NOT NULL, received_at bigint NOT NULL, score double precision NOT NULL, simulated boolean NOT NULL,
                key_id text, body jsonb NOT NULL,
                PRIMARY KEY (payload_id, day)
            ) PARTITION BY RANGE (day)
            """,
            "CREATE INDEX payloads_by_host ON payloads (server_id, collected_at)",
            """
            CREATE TABLE metrics (
                payload_id text NOT NULL, day integer NOT NULL, server_id text NOT NULL, collected_at bigint NOT NULL,
                cpu_usage double precision, memory_usage double precision, disk_usage double precision,
                network_rx_bytes_per_sec double precision, network_tx_bytes_per_sec double precision, tcp_connections bigint,
                PRIMARY KEY (payload_id, day)
            ) PARTITION BY RANGE (day)
            """,
            "CREATE INDEX metrics_by_host ON metrics (server_id, collected_at)",
            """
            CREATE TABLE alerts (
                payload_id text NOT NULL, day integer NOT NULL, position integer NOT NULL,
                server_id text NOT NULL, host text NOT NULL, collected_at bigint NOT NULL,
                rule text NOT NULL, subject text, weight double precision NOT NULL,
                PRIMARY KEY (payload_id, day, position)
            ) PARTITION BY RANGE (day)
            """,
            "CREATE INDEX alerts_by_time ON alerts (collected_at)",
            "CREATE INDEX alerts_by_host ON alerts (server_id, collected_at)",
            "CREATE INDEX alerts_by_rule ON alerts (rule, collected_at)",
            """
            CREATE TABLE alert_details (
                payload_id text NOT NULL, day integer NOT NULL, position integer NOT NULL,
                rule text NOT NULL, source text, container text, omitted integer, detail jsonb NOT NULL,
                PRIMARY KEY (payload_id, day, position)
            ) PARTITION BY RANGE (day)
            """,
            """
            CREATE TABLE container_events (
                payload_id text NOT NULL, day integer NOT NULL, position integer NOT NULL,
                server_id text NOT NULL, collected_at bigint NOT NULL,
                type text NOT NULL, action text NOT NULL, container text NOT NULL, image text NOT NULL, time text NOT NULL,
                PRIMARY KEY (payload_id, day, position)
            ) PARTITION BY RANGE (day)
            """,
            "CREATE INDEX container_events_by_host ON container_events (server_id, collected_at)",
            """
            CREATE TABLE container_logs (
                payload_id text NOT NULL, day integer NOT NULL, position integer NOT NULL,
                server_id text NOT NULL, collected_at bigint NOT NULL,
                container text NOT NULL, message text NOT NULL, time text NOT NULL,
                PRIMARY KEY (payload_id, day, position)
            ) PARTITION BY RANGE (day)
            """,
            "CREATE INDEX container_logs_by_host ON container_logs (server_id, collected_at)",
            """
            CREATE TABLE hosts (
                server_id text PRIMARY KEY, host text NOT NULL, env text NOT NULL, owner_team text NOT NULL,
                payload_id text NOT NULL, received_at bigint NOT NULL, score double precision NOT NULL, key_id text,
                cpu_usage double precision, memory_usage double precision, disk_usage double precision
            )
            """,
            // Creates a day's partition of every table, once: concurrent callers (receivers, the
            // upkeep) serialise on the advisory lock and the second finds them made.
            """
            CREATE FUNCTION monitoring_ensure_day(d integer) RETURNS void LANGUAGE plpgsql AS $$
            DECLARE t text; part text;
            BEGIN
                PERFORM pg_advisory_xact_lock(\(lockKey));
                FOREACH t IN ARRAY ARRAY['\(partitionedTables.joined(separator: "','"))'] LOOP
                    part := t || '_' || to_char(date '1970-01-01' + d, 'YYYYMMDD');
                    IF to_regclass(part) IS NULL THEN
                        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)', part, t, d, d + 1);
                    END IF;
                END LOOP;
            END $$
            """,
        ]),
        // Rows of metrics, alerts, container events and logs are written only in the statement
        // that stored their payload (the payloads key keeps that once), and every read finds them
        // by host or time: a key of their own is an index write per row that no read uses.
        // Alert details keep theirs: the alerts page looks them up by payload.
        ("v2", ["metrics", "alerts", "container_events", "container_logs"].map { "ALTER TABLE \($0) DROP CONSTRAINT \($0)_pkey" }),
    ]
}
