DROP TABLE IF EXISTS ticket_ratings;
DELETE FROM ticket_evidence WHERE content_type = 'application/pdf';
ALTER TABLE ticket_evidence DROP CONSTRAINT ticket_evidence_content_type_check;
ALTER TABLE ticket_evidence ADD CONSTRAINT ticket_evidence_content_type_check
    CHECK (content_type IN ('image/png', 'image/jpeg'));
