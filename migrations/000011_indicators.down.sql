DROP TABLE IF EXISTS census_populations;
DROP TABLE IF EXISTS indicator_dirty_days;
DROP TABLE IF EXISTS indicator_daily;
