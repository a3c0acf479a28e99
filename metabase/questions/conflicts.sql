-- Versions that contradicted a final status (a completed payment later sent as failed, or the reverse). The first
-- final status stays; these are for a person to look into. Dates are when the service met the contradiction.
SELECT s.recorded_at, s.transaction_id, s.stored_status, s.incoming_status, s.topic, s.import_line
FROM superseded_events s
WHERE s.reason = 'conflict'
  [[AND (s.recorded_at AT TIME ZONE 'UTC')::date >= {{date_from}}]]
  [[AND (s.recorded_at AT TIME ZONE 'UTC')::date <= {{date_to}}]]
ORDER BY s.recorded_at DESC, s.superseded_event_id DESC
LIMIT 20
