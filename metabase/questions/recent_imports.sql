-- The latest CSV imports: what was published, what reached the database, what was refused. Counted as the
-- importer's page counts them, from what the ingestion service decided for each row (import_progress): a row that
-- a later import wrote again still counts for this one, and a row older than what was stored is decided too.
SELECT i.uploaded_at, i.file_name, i.rows_published,
       greatest(0, p.decided - s.older) AS rows_saved,
       i.rows_rejected,
       CASE WHEN p.decided + i.rows_rejected >= i.rows_published THEN 'complete' ELSE 'in progress' END AS state
FROM bi_rejections_by_import i
CROSS JOIN LATERAL (SELECT coalesce(sum(g.rows_saved), 0) AS decided
                    FROM import_progress g WHERE g.import_id = i.import_id) p
CROSS JOIN LATERAL (SELECT count(DISTINCT e.import_line) AS older
                    FROM superseded_events e WHERE e.import_id = i.import_id) s
WHERE NOT EXISTS (SELECT 1 FROM imports a WHERE a.import_id = i.import_id AND a.status = 'archiving')  -- nothing published yet
  [[AND (i.uploaded_at AT TIME ZONE 'UTC')::date >= {{date_from}}]]
  [[AND (i.uploaded_at AT TIME ZONE 'UTC')::date <= {{date_to}}]]
ORDER BY i.uploaded_at DESC
LIMIT 20
