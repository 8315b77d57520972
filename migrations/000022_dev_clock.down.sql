DROP TABLE dev_clock;
