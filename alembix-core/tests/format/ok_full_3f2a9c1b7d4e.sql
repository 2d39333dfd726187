-- revision: 3f2a9c1b7d4e
-- down_revision: 9b8c7d6e5f4a
-- branch_labels: billing
-- depends_on: 55aa66bb77cc, accounts
-- message: add invoices table
-- create_date: 2026-11-22 10:31:00
-- transaction: per-migration
-- This comment explains the migration and is not a header line.

-- migrate:upgrade
CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    note TEXT DEFAULT 'a;b'
);
CREATE INDEX invoices_note ON invoices (note);

-- migrate:downgrade
DROP TABLE invoices;
