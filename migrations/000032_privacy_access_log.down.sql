DROP FUNCTION IF EXISTS drop_scan_partition(date);
DROP TABLE IF EXISTS access_log;
