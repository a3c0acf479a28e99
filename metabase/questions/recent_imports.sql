-- The latest CSV imports: what was published, what reached the database, what was refused.
SELECT i.uploaded_at, i.file_name, i.rows_published,
       (SELECT count(*) FROM transactions t WHERE t.import_id = i.import_id) AS rows_saved,
       i.rows_rejected,
       CASE WHEN (SELECT count(*) FROM transactions t WHERE t.import_id = i.import_id) + i.rows_rejected
                 >= i.rows_published THEN 'complete' ELSE 'in progress' END AS state
FROM bi_rejections_by_import i
WHERE 1 = 1
  [[AND (i.uploaded_at AT TIME ZONE 'UTC')::date >= {{date_from}}]]
  [[AND (i.uploaded_at AT TIME ZONE 'UTC')::date <= {{date_to}}]]
ORDER BY i.uploaded_at DESC
LIMIT 20
