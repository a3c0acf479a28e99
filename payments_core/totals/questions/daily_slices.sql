  -- Without a username: the daily totals.
  SELECT day, currency_code, status, transactions, volume, suspicious
  FROM daily_totals
  WHERE true [[AND {{username}} IS NULL]]
  UNION ALL
  -- With a username: that user's daily totals, sent and received.
  SELECT day, currency_code, status, sent + received, sent_volume + received_volume, suspicious
  FROM user_daily_totals
  WHERE false [[OR user_id = (SELECT user_id FROM users WHERE username = {{username}})]]
