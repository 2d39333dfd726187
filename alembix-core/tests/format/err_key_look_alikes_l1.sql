-- revision: l1
-- down_revision: none
-- transactiоn: none
-- mеssаgе: three Cyrillic letters
-- ｄｅｐｅｎｄｓ＿ｏｎ: l0
-- bran​ch_labels: billing
-- brαnch_lαbels: billing
-- transacti0n: none
-- create_dаte： 2026-01-01
-- depends_on： l0
-- depends‐on: l0

-- migrate:upgrade
SELECT 1;

-- migrate:downgrade
SELECT 1;
