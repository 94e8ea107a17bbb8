SELECT
  source,
  channel,
  COUNT(*) AS events,
  CAST(MIN(occurred_at) AS DATE) AS first_date,
  CAST(MAX(occurred_at) AS DATE) AS last_date
FROM events
GROUP BY
  source,
  channel
ORDER BY
  source NULLS LAST,
  channel NULLS LAST
