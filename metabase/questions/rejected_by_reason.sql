-- Refused messages by reason (a message refused for two reasons counts under each).
SELECT code AS reason, coalesce(field, '(whole message)') AS field, count(*) AS refusals
FROM bi_rejection_reasons
WHERE 1 = 1
  [[AND day >= {{date_from}}]]
  [[AND day <= {{date_to}}]]
GROUP BY code, field
ORDER BY refusals DESC, reason, field
