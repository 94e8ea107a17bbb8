WITH per_customer AS (
  SELECT
    c.customer_key,
    COUNT(DISTINCT ec.channel) AS channels
  FROM customers AS c
  LEFT JOIN event_customer AS ec
    ON ec.customer_key = c.customer_key
  WHERE
    c.status = 'active'
  GROUP BY
    c.customer_key
)
SELECT
  channels,
  COUNT(*) AS customers,
  CAST(COUNT(*) AS DOUBLE) / CAST(SUM(COUNT(*)) OVER () AS DOUBLE) AS share
FROM per_customer
GROUP BY
  channels
ORDER BY
  channels NULLS LAST
