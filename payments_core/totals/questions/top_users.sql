-- The ten users who ${side} the most, per currency (a user appears once for each currency). A template: the
-- question that fills it names the side it ranks and the party of each payment that side is.
-- Without a username, from the users' totals: without dates, the totals for all time; with dates, the months
-- wholly inside them from the monthly totals, and before and after them whole weeks and single days. With a
-- username, from that user's payments. Grouped by id first: the names are joined to the ten rows left.
SELECT u.username, c.alpha_code AS currency, top.transactions, top.${side}
FROM (
  SELECT parts.user_id, parts.currency_code, sum(parts.transactions) AS transactions, sum(parts.volume) AS ${side}
  FROM (
    -- Without dates: each user's totals for all time.
    SELECT user_id, currency_code, status, ${side} AS transactions, ${side}_volume AS volume
    FROM user_totals
    WHERE ${side} > 0
      [[AND {{username}} IS NULL]]
      [[AND {{date_from}} IS NULL]]
      [[AND {{date_to}} IS NULL]]
    UNION ALL
    -- The whole months: from the first month starting on or after date_from to the last ending by date_to.
    SELECT user_id, currency_code, status, ${side}, ${side}_volume
    FROM user_monthly_totals
    WHERE ${side} > 0
      AND (false [[OR {{date_from}} IS NOT NULL]] [[OR {{date_to}} IS NOT NULL]])
      [[AND {{username}} IS NULL]]
      [[AND month >= date_trunc('month', {{date_from}} - 1) + interval '1 month']]
      [[AND month < date_trunc('month', {{date_to}} + 1)]]
    UNION ALL
    -- Before the first whole month, from date_from (to date_to at most): the days before the first whole
    -- week, the whole weeks, the days after them. Each edge is a range of an index.
    SELECT user_id, currency_code, status, ${side}, ${side}_volume
    FROM user_daily_totals
    WHERE false [[OR (day >= {{date_from}} AND day < date_trunc('week', {{date_from}} + 6) AND day < date_trunc('month', {{date_from}} - 1) + interval '1 month')]]
      AND ${side} > 0
      [[AND {{username}} IS NULL]]
      [[AND day <= {{date_to}}]]
    UNION ALL
    SELECT user_id, currency_code, status, ${side}, ${side}_volume
    FROM user_weekly_totals
    WHERE false [[OR (week >= date_trunc('week', {{date_from}} + 6) AND week <= date_trunc('month', {{date_from}} - 1) + interval '1 month' - interval '7 days')]]
      AND ${side} > 0
      [[AND {{username}} IS NULL]]
      [[AND week <= {{date_to}} - 6]]
    UNION ALL
    SELECT user_id, currency_code, status, ${side}, ${side}_volume
    FROM user_daily_totals
    WHERE false [[OR (day >= date_trunc('week', {{date_from}} + 6) AND day < date_trunc('month', {{date_from}} - 1) + interval '1 month')]]
      AND ${side} > 0
      [[AND {{username}} IS NULL]]
      [[AND day <= {{date_to}}]]
      AND (false [[OR day >= date_trunc('week', date_trunc('month', {{date_from}} - 1) + interval '1 month')]] [[OR day >= date_trunc('week', {{date_to}} + 1)]])
    UNION ALL
    -- After the last whole month (and after date_from's edge), to date_to: the same three parts.
    SELECT user_id, currency_code, status, ${side}, ${side}_volume
    FROM user_daily_totals
    WHERE false [[OR (day >= date_trunc('month', {{date_to}} + 1) AND day <= {{date_to}})]]
      AND ${side} > 0
      [[AND {{username}} IS NULL]]
      [[AND day >= date_trunc('month', {{date_from}} - 1) + interval '1 month']]
      AND (false [[OR day < date_trunc('week', date_trunc('month', {{date_to}} + 1) + interval '6 days')]] [[OR day < date_trunc('week', date_trunc('month', {{date_from}} - 1) + interval '1 month 6 days')]])
    UNION ALL
    SELECT user_id, currency_code, status, ${side}, ${side}_volume
    FROM user_weekly_totals
    WHERE false [[OR (week >= date_trunc('week', date_trunc('month', {{date_to}} + 1) + interval '6 days') AND week <= {{date_to}} - 6)]]
      AND ${side} > 0
      [[AND {{username}} IS NULL]]
      [[AND week >= date_trunc('week', date_trunc('month', {{date_from}} - 1) + interval '1 month 6 days')]]
    UNION ALL
    SELECT user_id, currency_code, status, ${side}, ${side}_volume
    FROM user_daily_totals
    WHERE false [[OR (day >= date_trunc('week', {{date_to}} + 1) AND day <= {{date_to}} AND day >= date_trunc('week', date_trunc('month', {{date_to}} + 1) + interval '6 days'))]]
      AND ${side} > 0
      [[AND {{username}} IS NULL]]
      [[AND day >= date_trunc('week', date_trunc('month', {{date_from}} - 1) + interval '1 month 6 days')]]
    UNION ALL
    SELECT ${party}_id, currency_code, status, 1, amount
    FROM user_payments
    WHERE false [[OR user_id = (SELECT user_id FROM users WHERE username = {{username}})]]
      [[AND day >= {{date_from}}]]
      [[AND day <= {{date_to}}]]
  ) AS parts
  WHERE true
    [[AND parts.currency_code = (SELECT numeric_code FROM currencies WHERE alpha_code = {{currency}})]]
    [[AND parts.status = {{status}}]]
  GROUP BY parts.user_id, parts.currency_code
) AS top
JOIN users u ON u.user_id = top.user_id
JOIN currencies c ON c.numeric_code = top.currency_code
ORDER BY top.${side} DESC, u.username
LIMIT 10
