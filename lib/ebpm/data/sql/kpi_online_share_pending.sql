-- KPI 1 shortfall: procedures that can legally go online but were not online by the end of $end_fy,
-- split by whether they are among the national priority procedures (priority_27).
SELECT coalesce(priority_27, false) AS priority_27, count(*) AS n
FROM procedure
WHERE online_legally_possible
  AND (online_since IS NULL OR online_since > make_date($end_fy + 1, 3, 31))
GROUP BY 1
ORDER BY 1 DESC
