-- Share of transactions completed, in percent (pending ones count as not completed yet).
SELECT round(100.0 * count(*) FILTER (WHERE status = 'completed') / nullif(count(*), 0), 1) AS completion_rate
FROM bi_transactions
WHERE 1 = 1
  [[AND day >= {{date_from}}]]
  [[AND day <= {{date_to}}]]
  [[AND (sender_username = {{username}} OR receiver_username = {{username}})]]
  [[AND currency = {{currency}}]]
  [[AND status = {{status}}]]
