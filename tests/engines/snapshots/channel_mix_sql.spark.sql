WITH first_use AS (
  /* the first event of each customer on each channel */
  SELECT
    customer_key,
    channel,
    occurred_at,
    seq,
    ROW_NUMBER() OVER (
      PARTITION BY customer_key, channel
      ORDER BY occurred_at NULLS LAST, seq NULLS LAST
    ) AS nth
  FROM event_customer
  WHERE
    NOT customer_key IS NULL AND NOT channel IS NULL
), channel_order AS (
  /* each customer's channels in the order they were first used */
  SELECT
    customer_key,
    channel,
    ROW_NUMBER() OVER (PARTITION BY customer_key ORDER BY occurred_at NULLS LAST, seq NULLS LAST) AS k
  FROM first_use
  WHERE
    nth = 1
)
SELECT
  f.channel AS first_channel,
  s.channel AS second_channel,
  COUNT(*) AS customers
FROM channel_order AS f
LEFT JOIN channel_order AS s
  ON s.customer_key = f.customer_key AND s.k = 2
WHERE
  f.k = 1
GROUP BY
  f.channel,
  s.channel
ORDER BY
  customers DESC,
  first_channel NULLS LAST,
  second_channel NULLS LAST
