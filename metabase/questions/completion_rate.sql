-- Share of transactions completed, in percent (pending ones count as not completed yet).
SELECT round(100.0 * coalesce(sum(transactions) FILTER (WHERE status = 'completed'), 0)
             / nullif(sum(transactions), 0), 1) AS completion_rate
FROM (
  -- Without a username: the daily totals.
  SELECT day, currency_code, status, transactions, volume, suspicious
  FROM daily_totals
  WHERE true [[AND {{username}} IS NULL]]
  UNION ALL
  -- With a username: that user's daily totals, sent and received.
  SELECT day, currency_code, status, sent + received, sent_volume + received_volume, suspicious
  FROM user_daily_totals
  WHERE false [[OR user_id = (SELECT user_id FROM users WHERE username = {{username}})]]
) AS slices
WHERE true
  [[AND day >= {{date_from}}]]
  [[AND day <= {{date_to}}]]
  [[AND currency_code = (SELECT numeric_code FROM currencies WHERE alpha_code = {{currency}})]]
  [[AND status = {{status}}]]
