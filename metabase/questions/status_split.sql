-- How many transactions are pending, completed or failed.
SELECT status, sum(transactions) AS transactions
FROM (
  {{> daily_slices}}
) AS slices
WHERE true
  [[AND day >= {{date_from}}]]
  [[AND day <= {{date_to}}]]
  [[AND currency_code = (SELECT numeric_code FROM currencies WHERE alpha_code = {{currency}})]]
  [[AND status = {{status}}]]
GROUP BY status
ORDER BY status
