DROP TABLE IF EXISTS subsystem_pushes;
DROP TABLE IF EXISTS subsystem_deviations;
DROP TABLE IF EXISTS subsystem_records;
