-- Issue 11: a ranking report says how much data it rests on (RANKED,
-- PARTIAL: some days of the week without computed indicators, NO_DATA:
-- nothing to rank) and carries its notes (why there is no data, a tie that
-- spans the interview cut), frozen with its rows. Reports stored before read
-- as they were published: RANKED on seven days, without notes.
ALTER TABLE ranking_reports
    ADD COLUMN state          text NOT NULL DEFAULT 'RANKED' CHECK (state IN ('RANKED', 'PARTIAL', 'NO_DATA')),
    ADD COLUMN days_with_data smallint NOT NULL DEFAULT 7 CHECK (days_with_data BETWEEN 0 AND 7),
    ADD COLUMN notes          jsonb NOT NULL DEFAULT '[]';
