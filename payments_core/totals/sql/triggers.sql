-- The statement-level triggers on `transactions` that call note_payment_changes(). Installed by migration 0013.
CREATE OR REPLACE TRIGGER payment_changes_inserted AFTER INSERT ON transactions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION note_payment_changes();
CREATE OR REPLACE TRIGGER payment_changes_updated AFTER UPDATE ON transactions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION note_payment_changes();
CREATE OR REPLACE TRIGGER payment_changes_deleted AFTER DELETE ON transactions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION note_payment_changes();
CREATE OR REPLACE TRIGGER payment_changes_truncated AFTER TRUNCATE ON transactions FOR EACH STATEMENT EXECUTE FUNCTION note_payment_changes();
