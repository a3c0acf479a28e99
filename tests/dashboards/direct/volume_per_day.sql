-- Volume per day, one line per currency.
SELECT day, currency, sum(amount) AS volume
FROM bi_transactions
WHERE 1 = 1
  [[AND day >= {{date_from}}]]
  [[AND day <= {{date_to}}]]
  [[AND (sender_username = {{username}} OR receiver_username = {{username}})]]
  [[AND currency = {{currency}}]]
  [[AND status = {{status}}]]
GROUP BY day, currency
ORDER BY day, currency
