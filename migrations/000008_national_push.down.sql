DROP TABLE IF EXISTS national_push_batches;
DROP TABLE IF EXISTS national_pushes;
