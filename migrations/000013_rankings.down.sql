DROP TABLE IF EXISTS ranking_reports;
