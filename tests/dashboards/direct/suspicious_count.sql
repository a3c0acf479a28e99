-- Transactions marked suspicious (amount above the threshold).
SELECT count(*) AS suspicious
FROM bi_transactions
WHERE 1 = 1
  [[AND day >= {{date_from}}]]
  [[AND day <= {{date_to}}]]
  [[AND (sender_username = {{username}} OR receiver_username = {{username}})]]
  [[AND currency = {{currency}}]]
  [[AND status = {{status}}]]
  AND is_suspicious
