DROP TABLE IF EXISTS trusted_issuers;
DROP TABLE IF EXISTS fever_reports;
DROP TABLE IF EXISTS scans;
DROP TABLE IF EXISTS response_levels;
DROP TABLE IF EXISTS venues;
DROP TABLE IF EXISTS institution_members;
DROP TABLE IF EXISTS institutions;
