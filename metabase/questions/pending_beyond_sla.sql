-- Payments still pending longer than the service level (PENDING_SLA_MINUTES, in `service_levels`), per currency:
-- how many, since when the oldest waits, and how long that is. From the view `pending_beyond_sla` (migration 0014),
-- which reads the daily totals for whole days and the partial index of pending payments for the rest.
SELECT c.alpha_code AS currency, p.payments, p.oldest, date_trunc('second', now() - p.oldest) AS longest_wait,
       p.sla_minutes
FROM pending_beyond_sla p
JOIN currencies c ON c.numeric_code = p.currency_code
WHERE true
  [[AND c.alpha_code = {{currency}}]]
ORDER BY p.payments DESC, c.alpha_code
