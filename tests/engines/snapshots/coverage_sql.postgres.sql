SELECT
  COUNT(*) AS events,
  COUNT(ec.customer_key) AS with_customer,
  COUNT(CASE WHEN ec.ambiguous THEN 1 END) AS ambiguous,
  CAST(COUNT(ec.customer_key) AS DOUBLE PRECISION) / NULLIF(COUNT(*), 0) AS share_with_customer
FROM events AS e
LEFT JOIN event_customer AS ec
  ON ec.seq = e.seq
