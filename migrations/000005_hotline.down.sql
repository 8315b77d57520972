DROP TABLE IF EXISTS knowledge_answers;
DROP TABLE IF EXISTS ticket_notices;
DROP TABLE IF EXISTS ticket_evidence;
DROP TABLE IF EXISTS ticket_extensions;
DROP TABLE IF EXISTS ticket_steps;
DROP TABLE IF EXISTS tickets;
DROP TABLE IF EXISTS handling_units;
