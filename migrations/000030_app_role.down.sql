DROP FUNCTION IF EXISTS create_scan_partition(date);
