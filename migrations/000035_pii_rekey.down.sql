DROP TABLE pii_rekey_progress;
