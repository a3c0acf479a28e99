-- The ten largest senders, per currency (a user appears once for each currency they paid in).
SELECT sender_username AS username, currency, count(*) AS transactions, sum(amount) AS sent
FROM bi_transactions
WHERE 1 = 1
  [[AND day >= {{date_from}}]]
  [[AND day <= {{date_to}}]]
  [[AND (sender_username = {{username}} OR receiver_username = {{username}})]]
  [[AND currency = {{currency}}]]
  [[AND status = {{status}}]]
GROUP BY sender_username, currency
ORDER BY sent DESC, username
LIMIT 10
