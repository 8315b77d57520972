-- Joint meeting lists (联席会议名单, notice 四(一)): every city and county
-- reports the members of its joint meeting on the health code to the level
-- above, by a deadline; on-time submission feeds the supervision ranking.
CREATE TABLE joint_meeting_lists (
    id           bigserial PRIMARY KEY,
    region_code  text NOT NULL REFERENCES regions (code),
    region_path  ltree NOT NULL,
    members      jsonb NOT NULL,               -- [{department, name, role, contact}]
    submitted_by text NOT NULL,
    submitted_at timestamptz NOT NULL,
    due_at       timestamptz NOT NULL,
    on_time      boolean NOT NULL
);
CREATE INDEX joint_meeting_lists_region_idx ON joint_meeting_lists (region_code, submitted_at DESC);
