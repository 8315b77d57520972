-- Credentials: the opaque code id carried in tokens, paper codes and health
-- pass cards (with revocation), and pass-card applications reviewed by the
-- community.

ALTER TABLE persons ADD COLUMN code_id text NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', '');
CREATE UNIQUE INDEX persons_code_id_idx ON persons (code_id);

-- Printed credentials: paper codes (纸质健康码) and pass cards (健康通行卡),
-- each a signed token valid 14 days, revoked when superseded or when the
-- person's colour changes.
CREATE TABLE printed_codes (
    id            bigserial PRIMARY KEY,
    person_id     bigint NOT NULL REFERENCES persons (id),
    kind          text NOT NULL CHECK (kind IN ('PAPER', 'PASS_CARD')),
    token_id      text NOT NULL UNIQUE,
    colour        text NOT NULL CHECK (colour IN ('GREEN', 'YELLOW', 'RED')),
    issued_by     text NOT NULL,
    issued_at     timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    revoke_reason text
);
CREATE INDEX printed_codes_person_idx ON printed_codes (person_id) WHERE revoked_at IS NULL;
CREATE INDEX printed_codes_revoked_idx ON printed_codes (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE pass_card_applications (
    id             bigserial PRIMARY KEY,
    person_id      bigint NOT NULL REFERENCES persons (id),
    declaration_id bigint NOT NULL REFERENCES declarations (id),
    region_code    text NOT NULL,
    region_path    ltree NOT NULL,
    status         text NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED')),
    submitted_by   text NOT NULL,
    created_at     timestamptz NOT NULL,
    reviewed_by    text,
    reviewed_at    timestamptz,
    review_reason  text,
    card_id        bigint REFERENCES printed_codes (id)
);
CREATE INDEX pass_card_applications_queue_idx ON pass_card_applications USING gist (region_path) WHERE status = 'PENDING';
