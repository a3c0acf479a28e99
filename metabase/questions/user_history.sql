-- One user's latest payments, sent and received (the built-in dashboard's user page; not on the dashboard).
SELECT transaction_date,
       CASE WHEN sender_username = {{username}} THEN 'sent' ELSE 'received' END AS direction,
       CASE WHEN sender_username = {{username}} THEN receiver_username ELSE sender_username END AS other,
       amount, currency, status, is_suspicious
FROM bi_transactions
WHERE sender_username = {{username}} OR receiver_username = {{username}}
ORDER BY transaction_date DESC
LIMIT 200
