-- What the resident's web pages need (issue 13): appeal evidence may be a PDF
-- document as well as a photo, and a resident rates the answer to a ticket
-- (网上评价), which the 12320 operator reads at the callback (回访).
ALTER TABLE ticket_evidence DROP CONSTRAINT ticket_evidence_content_type_check;
ALTER TABLE ticket_evidence ADD CONSTRAINT ticket_evidence_content_type_check
    CHECK (content_type IN ('image/png', 'image/jpeg', 'application/pdf'));

-- One rating per handling round: round is the ticket's reopen_count when the
-- resident rated it, so a reopened ticket can be rated again.
CREATE TABLE ticket_ratings (
    ticket_id    bigint NOT NULL REFERENCES tickets (id),
    round        integer NOT NULL,
    satisfaction text NOT NULL CHECK (satisfaction IN ('SATISFIED', 'BASICALLY_SATISFIED', 'DISSATISFIED')),
    comment      text NOT NULL DEFAULT '',
    account_id   bigint NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, round)
);
