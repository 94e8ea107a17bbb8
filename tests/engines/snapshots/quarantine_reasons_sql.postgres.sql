WITH kinds AS (
  SELECT
    source,
    TRIM(SPLIT_PART(SPLIT_PART(reason, ':', 1), '(', 1)) AS kind
  FROM quarantine
)
SELECT
  source,
  kind AS reason,
  COUNT(*) AS records
FROM kinds
GROUP BY
  source,
  kind
ORDER BY
  source,
  records DESC NULLS LAST,
  reason
