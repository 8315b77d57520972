-- Supervision indicators (SPEC §6): daily aggregates per region, recomputed
-- by workers one day at a time when that day's data changes.
--
-- Every indicator is a (numerator, denominator) pair per day and region, so
-- that any roll-up is a sum: a city is the sum of the rows inside its
-- subtree, a week the sum of its days. How a sum becomes a value depends on
-- the indicator's kind (healthcode.Indicators): RATIO = Σnum ÷ Σden,
-- COUNT = Σnum, LEVEL = Σnum of the period's last day.
--
-- Rows are written at the level where the data lives: counties for most
-- indicators; cities for what only cities do (weekly reports, sub-system
-- pushes); the census population as a denominator where the census counts it
-- (the ten cities and 杨凌示范区).
CREATE TABLE indicator_daily (
    day         date NOT NULL,                  -- China Standard Time
    indicator   text NOT NULL,
    region_code text NOT NULL REFERENCES regions (code),
    region_path ltree NOT NULL,
    numerator   double precision NOT NULL DEFAULT 0,
    denominator double precision NOT NULL DEFAULT 0,
    computed_at timestamptz NOT NULL,
    PRIMARY KEY (day, indicator, region_code)
);
CREATE INDEX indicator_daily_path_idx ON indicator_daily USING gist (region_path);

-- Days whose data changed since they were last computed; the worker takes
-- them in order and deletes the mark in the transaction that rewrites the
-- day.
CREATE TABLE indicator_dirty_days (
    day       date PRIMARY KEY,
    marked_at timestamptz NOT NULL
);

-- The 7th-census resident population (data/city-population-2020.csv): the
-- denominator of coverage and of scans per 1,000 residents. The cities'
-- figures exclude 杨凌示范区, which the census counts apart.
CREATE TABLE census_populations (
    region_code text PRIMARY KEY REFERENCES regions (code),
    population  bigint NOT NULL CHECK (population > 0)
);
INSERT INTO census_populations (region_code, population) VALUES
    ('6101', 12952907), ('6102', 698322), ('6103', 3321853), ('6104', 3959842),
    ('6105', 4688744), ('6106', 2282581), ('6107', 3211462), ('6108', 3624750),
    ('6109', 2493436), ('6110', 2041231), ('610403', 253871);
