-- The latest suspicious transactions.
SELECT transaction_date, sender_username, receiver_username, amount, currency, status, source, transaction_id
FROM bi_transactions
WHERE 1 = 1
  [[AND day >= {{date_from}}]]
  [[AND day <= {{date_to}}]]
  [[AND (sender_username = {{username}} OR receiver_username = {{username}})]]
  [[AND currency = {{currency}}]]
  [[AND status = {{status}}]]
  AND is_suspicious
ORDER BY transaction_date DESC, transaction_id DESC
LIMIT 20
