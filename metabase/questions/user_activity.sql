-- One user's payments sent and received, per currency (the built-in dashboard's user page; not on the dashboard).
SELECT c.alpha_code AS currency, sum(m.sent) AS sent_count, sum(m.sent_volume) AS sent_amount,
       sum(m.received) AS received_count, sum(m.received_volume) AS received_amount
FROM user_monthly_totals m
JOIN currencies c ON c.numeric_code = m.currency_code
WHERE m.user_id = (SELECT user_id FROM users WHERE username = {{username}})
GROUP BY c.alpha_code
ORDER BY currency
