-- The ten largest receivers, per currency.
SELECT receiver_username AS username, currency, count(*) AS transactions, sum(amount) AS received
FROM bi_transactions
WHERE 1 = 1
  [[AND day >= {{date_from}}]]
  [[AND day <= {{date_to}}]]
  [[AND (sender_username = {{username}} OR receiver_username = {{username}})]]
  [[AND currency = {{currency}}]]
  [[AND status = {{status}}]]
GROUP BY receiver_username, currency
ORDER BY received DESC, username
LIMIT 10
