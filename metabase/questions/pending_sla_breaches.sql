-- The payments pending longer than the service level, the longest waiting first, from the partial index of
-- pending payments (migration 0014).
SELECT t.transaction_date AS pending_since, date_trunc('second', now() - t.transaction_date) AS waiting,
       s.username AS sender_username, r.username AS receiver_username, t.amount, c.alpha_code AS currency,
       t.source, t.transaction_id
FROM (
  SELECT transaction_date, transaction_id, sender_id, receiver_id, amount, currency_code, source
  FROM transactions
  WHERE status = 'pending'
    AND transaction_date < (SELECT now() - make_interval(mins => minutes) FROM service_levels WHERE name = 'pending')
    [[AND currency_code = (SELECT numeric_code FROM currencies WHERE alpha_code = {{currency}})]]
  ORDER BY transaction_date, transaction_id
  LIMIT 50
) AS t
JOIN users s ON s.user_id = t.sender_id
JOIN users r ON r.user_id = t.receiver_id
JOIN currencies c ON c.numeric_code = t.currency_code
ORDER BY t.transaction_date, t.transaction_id
