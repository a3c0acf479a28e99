-- How many transactions are pending, completed or failed.
SELECT status, count(*) AS transactions
FROM bi_transactions
WHERE 1 = 1
  [[AND day >= {{date_from}}]]
  [[AND day <= {{date_to}}]]
  [[AND (sender_username = {{username}} OR receiver_username = {{username}})]]
  [[AND currency = {{currency}}]]
  [[AND status = {{status}}]]
GROUP BY status
ORDER BY status
