-- How many transactions match the filters.
SELECT coalesce(sum(transactions), 0) AS transactions
FROM (
  {{> daily_slices}}
) AS slices
WHERE true
  [[AND day >= {{date_from}}]]
  [[AND day <= {{date_to}}]]
  [[AND currency_code = (SELECT numeric_code FROM currencies WHERE alpha_code = {{currency}})]]
  [[AND status = {{status}}]]
