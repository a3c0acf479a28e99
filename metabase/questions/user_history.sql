-- One user's payments, sent and received, newest first, a page at a time (the built-in dashboard's user page;
-- not on the dashboard). The next page starts before the last row shown: `before` is its date and `before_id`
-- its transaction.
SELECT p.transaction_date, p.direction, o.username AS other, p.amount, c.alpha_code AS currency, p.status,
       p.is_suspicious, p.transaction_id
FROM user_payments p
JOIN users o ON o.user_id = p.other_id
JOIN currencies c ON c.numeric_code = p.currency_code
WHERE p.user_id = (SELECT user_id FROM users WHERE username = {{username}})
  [[AND (p.transaction_date, p.transaction_id) < (CAST({{before}} AS timestamptz), CAST({{before_id}} AS uuid))]]
ORDER BY p.transaction_date DESC, p.transaction_id DESC
LIMIT 200
