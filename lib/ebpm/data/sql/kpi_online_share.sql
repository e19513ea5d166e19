-- KPI 1: share (%) of procedures that can legally go online which were online by each FY end (31 March).
SELECT fy, 100.0 * count(*) FILTER (WHERE p.online_since <= make_date(fy + 1, 3, 31)) / count(*) AS value
FROM (SELECT unnest(generate_series($start_fy, $end_fy)) AS fy) AS years, procedure AS p
WHERE p.online_legally_possible
GROUP BY fy
