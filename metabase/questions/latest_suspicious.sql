-- The latest suspicious transactions, read newest first from their partial index (which holds every column
-- shown and filtered on).
SELECT t.transaction_date, s.username AS sender_username, r.username AS receiver_username, t.amount,
       c.alpha_code AS currency, t.status, t.source, t.transaction_id
FROM (
  SELECT transaction_date, transaction_id, sender_id, receiver_id, amount, currency_code, status, source
  FROM transactions
  WHERE is_suspicious
    [[AND transaction_date >= CAST({{date_from}} AS timestamp) AT TIME ZONE 'UTC']]
    [[AND transaction_date < CAST({{date_to}} + 1 AS timestamp) AT TIME ZONE 'UTC']]
    [[AND (sender_id = (SELECT user_id FROM users WHERE username = {{username}})
           OR receiver_id = (SELECT user_id FROM users WHERE username = {{username}}))]]
    [[AND currency_code = (SELECT numeric_code FROM currencies WHERE alpha_code = {{currency}})]]
    [[AND status = {{status}}]]
  ORDER BY transaction_date DESC, transaction_id DESC
  LIMIT 20
) AS t
JOIN users s ON s.user_id = t.sender_id
JOIN users r ON r.user_id = t.receiver_id
JOIN currencies c ON c.numeric_code = t.currency_code
ORDER BY t.transaction_date DESC, t.transaction_id DESC
