-- The log of changes as one relation: both halves. Installed by migration 0019.
CREATE OR REPLACE VIEW payment_totals_changes AS SELECT * FROM payment_totals_changes_0 UNION ALL SELECT * FROM payment_totals_changes_1;
