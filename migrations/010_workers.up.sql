-- One row per process working Sparrow's queue, kept fresh by a heartbeat:
-- the engine tells from it whether any worker is alive (a push that nobody
-- will fan out is worth a warning), and which River client's running jobs
-- belong to a process that died.
CREATE TABLE /*schema*/sparrow_worker (
    -- River's client id, as River writes it into river_job.attempted_by.
    client_id    text        PRIMARY KEY,
    queue        text        NOT NULL,
    hostname     text        NOT NULL,
    pid          integer     NOT NULL,
    started_at   timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL
);
