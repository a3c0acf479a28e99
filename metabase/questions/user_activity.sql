-- One user's payments sent and received, per currency (the built-in dashboard's user page; not on the dashboard).
SELECT currency, sent_count, sent_amount, received_count, received_amount
FROM bi_user_activity
WHERE username = {{username}}
ORDER BY currency
