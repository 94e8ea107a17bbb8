SELECT
  kind,
  status,
  COUNT(*) AS identifiers
FROM identifiers
GROUP BY
  kind,
  status
ORDER BY
  kind,
  status
