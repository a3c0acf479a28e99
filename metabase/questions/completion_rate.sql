-- Share of transactions completed, in percent (pending ones count as not completed yet).
SELECT round(100.0 * coalesce(sum(transactions) FILTER (WHERE status = 'completed'), 0)
             / nullif(sum(transactions), 0), 1) AS completion_rate
FROM (
  {{> daily_slices}}
) AS slices
WHERE true
  [[AND day >= {{date_from}}]]
  [[AND day <= {{date_to}}]]
  [[AND currency_code = (SELECT numeric_code FROM currencies WHERE alpha_code = {{currency}})]]
  [[AND status = {{status}}]]
