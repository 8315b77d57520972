DROP FUNCTION code_rule_set_version(bigint, text);
DROP TABLE code_evaluations;
