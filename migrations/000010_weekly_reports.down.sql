DROP TABLE IF EXISTS weekly_reports;
