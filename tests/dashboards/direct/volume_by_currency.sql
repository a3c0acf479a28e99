-- Volume per currency: amounts in different currencies are never added together.
SELECT currency, count(*) AS transactions, sum(amount) AS volume
FROM bi_transactions
WHERE 1 = 1
  [[AND day >= {{date_from}}]]
  [[AND day <= {{date_to}}]]
  [[AND (sender_username = {{username}} OR receiver_username = {{username}})]]
  [[AND currency = {{currency}}]]
  [[AND status = {{status}}]]
GROUP BY currency
ORDER BY volume DESC
