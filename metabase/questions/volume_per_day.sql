-- Volume per day, one line per currency.
SELECT day, c.alpha_code AS currency, sum(volume) AS volume
FROM (
  {{> daily_slices}}
) AS slices
JOIN currencies c ON c.numeric_code = slices.currency_code
WHERE true
  [[AND day >= {{date_from}}]]
  [[AND day <= {{date_to}}]]
  [[AND currency_code = (SELECT numeric_code FROM currencies WHERE alpha_code = {{currency}})]]
  [[AND status = {{status}}]]
GROUP BY day, c.alpha_code
ORDER BY day, currency
